import { podSpecOf } from './images.js';
import type { Resource } from './types.js';
import { wildcardMatch } from './wildcard.js';

/**
 * Kyverno `validate.podSecurity`: the Kubernetes Pod Security Standards (baseline, restricted) as
 * defined at https://kubernetes.io/docs/concepts/security/pod-security-standards/, with Kyverno's
 * `exclude` entries (controlName, optional images, restrictedField, values). `version` is accepted
 * and treated as latest.
 */
interface Failure {
  control: string;
  field: string;
  values: string[];
  image?: string;
}

export interface PodSecuritySpec {
  level?: string;
  version?: string;
  exclude?: { controlName?: string; images?: string[]; restrictedField?: string; values?: string[] }[];
}

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

const BASELINE_CAPS = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

function containers(spec: Obj): { kind: string; c: Obj }[] {
  const out: { kind: string; c: Obj }[] = [];
  for (const kind of ['containers', 'initContainers', 'ephemeralContainers']) for (const c of (spec[kind] as unknown[]) ?? []) out.push({ kind, c: o(c) });
  return out;
}

export function podSecurityFailures(resource: Resource, level: string): Failure[] {
  const spec = podSpecOf(resource);
  if (!spec) return [];
  const psc = o(spec['securityContext']);
  const cs = containers(spec);
  const f: Failure[] = [];
  const add = (control: string, field: string, values: unknown[], image?: string) => f.push({ control, field, values: values.map(String), ...(image ? { image } : {}) });
  if (level === 'privileged') return f;

  // ---- baseline
  if (o(psc['windowsOptions'])['hostProcess'] === true) add('HostProcess', 'spec.securityContext.windowsOptions.hostProcess', [true]);
  for (const { kind, c } of cs) if (o(o(c['securityContext'])['windowsOptions'])['hostProcess'] === true) add('HostProcess', `spec.${kind}[*].securityContext.windowsOptions.hostProcess`, [true], String(c['image']));
  for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[k] === true) add('Host Namespaces', `spec.${k}`, [true]);
  for (const { kind, c } of cs) {
    const sc = o(c['securityContext']);
    const image = String(c['image'] ?? '');
    if (sc['privileged'] === true) add('Privileged Containers', `spec.${kind}[*].securityContext.privileged`, [true], image);
    const caps = o(sc['capabilities']);
    const added = ((caps['add'] as unknown[]) ?? []).map(String);
    const bad = added.filter((a) => !BASELINE_CAPS.includes(a));
    if (bad.length) add('Capabilities', `spec.${kind}[*].securityContext.capabilities.add`, bad, image);
    for (const p of (c['ports'] as unknown[]) ?? []) {
      const hp = o(p)['hostPort'];
      if (hp !== undefined && hp !== 0) add('Host Ports', `spec.${kind}[*].ports[*].hostPort`, [hp as string], image);
    }
    const seo = o(sc['seLinuxOptions']);
    if ((seo['type'] !== undefined && !SELINUX_TYPES.includes(String(seo['type']))) || seo['user'] !== undefined || seo['role'] !== undefined) add('SELinux', `spec.${kind}[*].securityContext.seLinuxOptions`, [JSON.stringify(seo)], image);
    if (sc['procMount'] !== undefined && sc['procMount'] !== 'Default') add('/proc Mount Type', `spec.${kind}[*].securityContext.procMount`, [sc['procMount'] as string], image);
    if (o(sc['seccompProfile'])['type'] === 'Unconfined') add('Seccomp', `spec.${kind}[*].securityContext.seccompProfile.type`, ['Unconfined'], image);
    const aa = o(sc['appArmorProfile'])['type'];
    if (aa !== undefined && aa !== 'RuntimeDefault' && aa !== 'Localhost') add('AppArmor', `spec.${kind}[*].securityContext.appArmorProfile.type`, [aa as string], image);
  }
  const pseo = o(psc['seLinuxOptions']);
  if ((pseo['type'] !== undefined && !SELINUX_TYPES.includes(String(pseo['type']))) || pseo['user'] !== undefined || pseo['role'] !== undefined) add('SELinux', 'spec.securityContext.seLinuxOptions', [JSON.stringify(pseo)]);
  if (o(psc['seccompProfile'])['type'] === 'Unconfined') add('Seccomp', 'spec.securityContext.seccompProfile.type', ['Unconfined']);
  const paa = o(psc['appArmorProfile'])['type'];
  if (paa !== undefined && paa !== 'RuntimeDefault' && paa !== 'Localhost') add('AppArmor', 'spec.securityContext.appArmorProfile.type', [paa as string]);
  const ann = o(o(resource.kind === 'Pod' ? resource.metadata : o(o(resource['spec'])['template'])['metadata'])['annotations']);
  for (const [k, v] of Object.entries(ann)) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !String(v).startsWith('localhost/')) add('AppArmor', `metadata.annotations["${k}"]`, [v as string]);
  }
  for (const v of (spec['volumes'] as unknown[]) ?? []) if (o(v)['hostPath'] !== undefined) add('HostPath Volumes', 'spec.volumes[*].hostPath', [String(o(v)['name'])]);
  for (const s of (psc['sysctls'] as unknown[]) ?? []) if (!SAFE_SYSCTLS.includes(String(o(s)['name']))) add('Sysctls', 'spec.securityContext.sysctls[*].name', [String(o(s)['name'])]);
  if (level !== 'restricted') return f;

  // ---- restricted
  for (const v of (spec['volumes'] as unknown[]) ?? []) {
    const types = Object.keys(o(v)).filter((k) => k !== 'name');
    const bad = types.filter((t) => !RESTRICTED_VOLUMES.includes(t));
    if (bad.length) add('Volume Types', 'spec.volumes[*]', bad);
  }
  const podNonRoot = psc['runAsNonRoot'] === true;
  const podSeccomp = o(psc['seccompProfile'])['type'];
  if (psc['runAsUser'] === 0) add('Running as Non-root user', 'spec.securityContext.runAsUser', [0]);
  if (psc['runAsNonRoot'] === false) add('Running as Non-root', 'spec.securityContext.runAsNonRoot', [false]);
  for (const { kind, c } of cs) {
    const sc = o(c['securityContext']);
    const image = String(c['image'] ?? '');
    if (sc['allowPrivilegeEscalation'] !== false) add('Privilege Escalation', `spec.${kind}[*].securityContext.allowPrivilegeEscalation`, [String(sc['allowPrivilegeEscalation'] ?? 'undefined')], image);
    if (sc['runAsNonRoot'] === false || (!podNonRoot && sc['runAsNonRoot'] !== true)) add('Running as Non-root', `spec.${kind}[*].securityContext.runAsNonRoot`, [String(sc['runAsNonRoot'] ?? 'undefined')], image);
    if (sc['runAsUser'] === 0) add('Running as Non-root user', `spec.${kind}[*].securityContext.runAsUser`, [0], image);
    const cst = o(sc['seccompProfile'])['type'];
    const effective = cst ?? podSeccomp;
    if (effective !== 'RuntimeDefault' && effective !== 'Localhost' && effective !== 'Unconfined') add('Seccomp', `spec.${kind}[*].securityContext.seccompProfile.type`, [String(effective ?? 'undefined')], image);
    const caps = o(sc['capabilities']);
    const drop = ((caps['drop'] as unknown[]) ?? []).map(String);
    if (!drop.includes('ALL')) add('Capabilities', `spec.${kind}[*].securityContext.capabilities.drop`, [drop.join(',') || 'undefined'], image);
    const addCaps = ((caps['add'] as unknown[]) ?? []).map(String).filter((a) => a !== 'NET_BIND_SERVICE' && BASELINE_CAPS.includes(a));
    if (addCaps.length) add('Capabilities', `spec.${kind}[*].securityContext.capabilities.add`, addCaps, image);
  }
  return f;
}

function excluded(fl: Failure, ex: NonNullable<PodSecuritySpec['exclude']>): boolean {
  return ex.some((e) => {
    if (e.controlName !== fl.control) return false;
    if (e.images && e.images.length) {
      if (!fl.image || !e.images.some((p) => wildcardMatch(p, fl.image!))) return false;
    } else if (fl.image && !e.restrictedField) return false;
    if (e.restrictedField && e.restrictedField !== fl.field) return false;
    if (e.values && !fl.values.every((v) => e.values!.includes(v))) return false;
    return true;
  });
}

/** Failed controls after exclusions, as readable lines (empty: the resource meets the level). */
export function checkPodSecurity(resource: Resource, spec: PodSecuritySpec): string[] {
  const level = String(spec.level ?? 'baseline').toLowerCase();
  return podSecurityFailures(resource, level)
    .filter((fl) => !excluded(fl, spec.exclude ?? []))
    .map((fl) => `${fl.control} (${fl.field}${fl.image ? `, image ${fl.image}` : ''}: ${fl.values.join(', ')})`);
}
