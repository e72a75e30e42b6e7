/**
 * The standalone shape (deploy/predictor-standalone.yaml): the server without a sidecar and one
 * elected predictor Deployment per fleet, generated from the same config as the sidecar shape.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generateDeployFiles } from '../../src/deploy/index.js';

const PATH = 'deploy/predictor-standalone.yaml';

function docs(files: Map<string, string>, path: string): any[] {
  return parseAllDocuments(files.get(path) as string).map((d) => d.toJS());
}

describe('standalone predictor shape', () => {
  const files = generateDeployFiles();
  const list = docs(files, PATH);
  const deployments = list.filter((d) => d.kind === 'Deployment');
  const server = deployments.find((d) => d.metadata.name === 'realtime-server');
  const predictor = deployments.find((d) => d.metadata.name === 'realtime-server-predictor');

  it('has the server without a sidecar or credential, and a 2-replica predictor', () => {
    expect(list.map((d) => d.kind)).toEqual([
      'Deployment',
      'Service',
      'ServiceAccount',
      'ConfigMap',
      'Role',
      'RoleBinding',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
    ]);
    const pod = server.spec.template.spec;
    expect(pod.containers.map((c: any) => c.name)).toEqual(['server']);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['tmp']);
    expect(predictor.spec.replicas).toBe(2);
    expect(predictor.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['predictor']);
  });

  it('keeps the predictor pods out of the server selector and Service', () => {
    const podLabels = predictor.spec.template.metadata.labels;
    expect(podLabels['app.kubernetes.io/name']).toBe('realtime-server-predictor');
    for (const [k, v] of Object.entries(server.spec.selector.matchLabels))
      expect(podLabels[k]).not.toBe(v);
    const services = list.filter((d) => d.kind === 'Service');
    expect(services.map((s) => s.metadata.name)).toEqual([
      'realtime-server',
      'realtime-server-predictor',
    ]);
    expect(services[0].spec.ports.map((p: any) => p.name)).toEqual(['http']);
    expect(services[1].spec.selector).toEqual(predictor.spec.selector.matchLabels);
    // ServiceMonitor selects it by the server's labels and relabels job to the server's name.
    expect(services[1].metadata.labels['app.kubernetes.io/name']).toBe('realtime-server');
  });

  it('elects through the same Lease and reads the fleet from Prometheus', () => {
    const container = predictor.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env.TIDEWATCH_ELECTION_ENABLED).toBe('true');
    expect(env.TIDEWATCH_ELECTION_LEASE_NAME).toBe('realtime-server-predictor');
    expect(container.volumeMounts.map((m: any) => m.name)).toContain('predictor-token');
    const cm = list.find((d) => d.kind === 'ConfigMap');
    expect(cm.data['config.yaml']).toContain('kind: prometheus');
    // The sidecar shape's config, role and account are the same objects (switching shapes is
    // an apply, not a migration).
    const sidecar = docs(files, 'deploy/realtime-server-with-sidecar.yaml');
    for (const kind of ['ServiceAccount', 'ConfigMap', 'Role', 'RoleBinding'])
      expect(list.find((d) => d.kind === kind)).toEqual(sidecar.find((d) => d.kind === kind));
  });

  it('stays a fleet-wide, elected predictor even when the sidecar shape scrapes per pod', () => {
    const scrape = generateDeployFiles({ source: 'scrape' });
    const l = docs(scrape, PATH);
    const cm = l.find((d) => d.kind === 'ConfigMap');
    expect(cm.data['config.yaml']).toContain('kind: prometheus');
    expect(l.map((d) => d.kind)).toContain('Role');
    const sidecar = docs(scrape, 'deploy/realtime-server-with-sidecar.yaml');
    expect(sidecar.map((d) => d.kind)).not.toContain('Role');
  });
});
