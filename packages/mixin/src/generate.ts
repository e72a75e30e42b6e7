/**
 * Everything the mixin generates from one config file, as `tidewatch-mixin generate` writes it
 * and `scripts/generate.mjs` commits it: dashboards, recording and alert rules, their promtool
 * tests, runbooks, the `deploy/` manifests and a `mixin.libsonnet` over them. One code path:
 * the repository's committed files are {@link generateMixin} of the empty config.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type MixinConfigInput, mixinConfig } from './config.js';
import {
  DEFAULT_PROVISIONING,
  generateDashboards,
  type ProvisioningOptions,
} from './dashboards/index.js';
import { type DeployConfigInput, generateDeployFiles } from './deploy/index.js';
import { renderLibsonnet } from './libsonnet.js';
import { generateRules, RULE_PATHS } from './rules/index.js';

/**
 * A mixin config file's content: the {@link MixinConfigInput} fields at the top, the deploy
 * config under `deploy`, Grafana provisioning under `provisioning`. Everything is optional.
 */
export interface MixinFileConfig extends MixinConfigInput {
  /** The `deploy/` manifests' config (`deployConfig()`'s input), Ingress included. */
  deploy?: DeployConfigInput;
  /** Where Grafana's provisioning finds the dashboards (`dashboards/provisioning/tidewatch.yaml`). */
  provisioning?: Partial<ProvisioningOptions>;
}

/**
 * Every generated file, path relative to the output root -> content: `dashboards/`,
 * `alerts/` (with `alerts/tests/`), `docs/runbooks.md`, `deploy/` and `mixin.libsonnet`.
 * Pure and byte-stable. A `deploy.capacityPerReplica` given without a top-level
 * `capacityPerReplica` is used by the rules too (one capacity, set once).
 * @throws ConfigError naming the field (a `DeployConfigError` for the `deploy` group, whose
 *   `field` is relative to it).
 */
export function generateMixin(input: MixinFileConfig = {}): Map<string, string> {
  const { deploy = {}, provisioning, ...mixin } = input;
  // First: a bad deploy.capacityPerReplica is reported as the deploy field it is.
  const deployFiles = generateDeployFiles(deploy);
  const capacity = mixin.capacityPerReplica ?? deploy.capacityPerReplica;
  const config = mixinConfig(
    capacity === undefined ? mixin : { ...mixin, capacityPerReplica: capacity },
  );
  const dashboards = generateDashboards(config, {
    provisioning: { ...DEFAULT_PROVISIONING, ...provisioning },
  });
  const rules = generateRules(config);
  const files = new Map([...dashboards, ...rules, ...deployFiles]);
  files.set(
    LIBSONNET_PATH,
    renderLibsonnet({
      dashboards: [...dashboards.keys()].filter((p) => p.endsWith('.json')),
      recordingYaml: rules.get(RULE_PATHS.recording) as string,
      alertsYaml: rules.get(RULE_PATHS.alerts) as string,
    }),
  );
  return files;
}

/** Where the monitoring-mixin entry point goes: the output root (as `jb install` expects it). */
export const LIBSONNET_PATH = 'mixin.libsonnet';

/** What {@link syncGenerated} did. */
export interface SyncResult {
  /** Files written (not in check mode), relative paths. */
  written: string[];
  /** Files whose content differs or that are missing (check mode), relative paths. */
  stale: string[];
  /** Files already up to date. */
  unchanged: string[];
}

/**
 * Writes `files` under `dir` (creating directories), skipping files already equal; with
 * `check`, writes nothing and lists the files that differ or are missing instead.
 */
export function syncGenerated(
  files: ReadonlyMap<string, string>,
  dir: string,
  options: { check?: boolean } = {},
): SyncResult {
  const result: SyncResult = { written: [], stale: [], unchanged: [] };
  for (const [rel, content] of files) {
    const file = join(dir, rel);
    let current: string | null = null;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // Missing: written, or stale in check mode.
    }
    if (current === content) result.unchanged.push(rel);
    else if (options.check) result.stale.push(rel);
    else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      result.written.push(rel);
    }
  }
  return result;
}
