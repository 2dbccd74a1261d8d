import { z } from 'zod';
import { proposeRequestShape, handoffIdSchema } from '../handoff/index.js';
import { HANDOFF_STATES } from '../ledger/index.js';

/**
 * Input schemas of the MCP tools: the HTTP API's request schemas (src/handoff/request-schemas.ts),
 * so an agent's call is validated exactly like a POST to the server. Every object is strict.
 */
export const proposeToolInput = z
  .strictObject({
    ...proposeRequestShape,
    patch: proposeRequestShape.patch.optional(),
    fromWorktree: z.boolean().optional().describe('the change is the working tree against base (instead of patch)'),
  })
  .refine((v) => (v.patch !== undefined) !== (v.fromWorktree === true), { message: 'give exactly one of patch or fromWorktree: true' });

export const listToolInput = z.strictObject({
  state: z.enum(HANDOFF_STATES).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

export const idToolInput = z.strictObject({ id: handoffIdSchema });

export const checkScopeToolInput = z.strictObject({
  patch: proposeRequestShape.patch,
  patchEncoding: proposeRequestShape.patchEncoding,
  base: proposeRequestShape.base,
  executeLane: z.string().min(1).max(64).optional().describe('execute lane whose scope policy applies (default: the first execute lane)'),
});

export const acceptToolInput = z.strictObject({ id: handoffIdSchema });

export const emptyToolInput = z.strictObject({});
