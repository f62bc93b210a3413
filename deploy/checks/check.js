#!/usr/bin/env node
// Checks kosapo's Kubernetes manifests offline (CTest label "deploy"):
//
//  1. renders the base and every overlay with `kubectl kustomize`;
//  2. validates every object against the Kubernetes schemas
//     (kubernetes-models, Kubernetes 1.27) and the prometheus-operator
//     schemas; CloudNativePG objects are checked structurally here (known
//     fields, types, required fields);
//  3. checks the deployment rules by reading the rendered objects (see
//     RULES below), including the network-policy matrix against the calls
//     the architecture makes, and each ConfigMap against the options the
//     built binaries accept (`--help`, and a start with that configuration);
//  4. proves the rule checks are not vacuous: it breaks the rendered
//     production objects in memory, one rule at a time, and expects each
//     breakage to be reported.
//
// Usage: node check.js --source DIR --build DIR [--kubectl PATH]
// Exit status 0 when everything holds; 1 with one line per failure.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');

let yaml;
try {
  yaml = require('js-yaml');
  require('kubernetes-models/apps/v1/Deployment');
} catch (error) {
  console.error('check.js: the npm dependencies are not installed ' +
    `(${error.message.split('\n')[0]}).\n` +
    'Run scripts/install-deps.sh (it runs `npm ci` in deploy/checks).');
  process.exit(1);
}

// ---------------------------------------------------------------------------
// The architecture the manifests must express.

const SERVICES = {
  // fieldKeys: holds free text about children, encrypted at rest with keys
  // from its Secret kosapo-<service>-field-keys.
  screening: {
    port: 50051, metrics: 9451, health: 8451, schema: 'screening',
    grpc: 'kosapo.screening.v1.ScreeningService', peers: [], fieldKeys: true,
  },
  case: {
    port: 50052, metrics: 9452, health: 8452, schema: 'cases',
    grpc: 'kosapo.cases.v1.CaseService', peers: ['screening'], fieldKeys: true,
  },
  referral: {
    port: 50053, metrics: 9453, health: 8453, schema: 'referral',
    grpc: 'kosapo.referral.v1.ReferralService', peers: ['case'], fieldKeys: true,
  },
  reporting: {
    port: 50054, metrics: 9454, health: 8454, schema: 'reporting',
    grpc: 'kosapo.reporting.v1.ReportingService',
    peers: ['screening', 'case', 'referral'],
  },
};
const DB_CLUSTER = 'kosapo-db';
const DB_PORT = 5432;
// Connections the database keeps for the operator, monitoring and admins,
// on top of what the service replicas may open.
const DB_CONNECTION_HEADROOM = 20;
// Secrets the operator creates itself (not documented as "to create").
const GENERATED_SECRETS = new Set([`${DB_CLUSTER}-ca`]);
// Alerts issue 9 asks for (a service not serving, consumer lag, urgent
// reports past their deadline, error ratio).
const REQUIRED_ALERTS = [
  'KosapoServiceNotServing', 'KosapoEventConsumerLag',
  'KosapoUrgentReportsUnacknowledged', 'KosapoHighErrorRatio',
];
// Metrics from outside the code base that rules may use.
const EXTERNAL_METRIC = /^(kube_[a-z0-9_]+|up)$/;

const app = (service) => `kosapo-${service}`;

// ---------------------------------------------------------------------------
// Small helpers.

function parseArgs(argv) {
  const args = { kubectl: process.env.KUBECTL || '' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = inline !== undefined ? inline : argv[++i];
    if (flag === '--source') args.source = value;
    else if (flag === '--build') args.build = value;
    else if (flag === '--kubectl') args.kubectl = value;
    else {
      console.error(`check.js: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (!args.source || !args.build) {
    console.error('usage: node check.js --source DIR --build DIR [--kubectl PATH]');
    process.exit(2);
  }
  return args;
}

function findKubectl(explicit) {
  const candidates = explicit ? [explicit] :
    (process.env.PATH || '').split(':').filter(Boolean)
      .map((dir) => path.join(dir, 'kubectl'));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch (_) { /* next */ }
  }
  return null;
}

// absl-style durations: 1h30m, 10s, 500ms; returns seconds.
function parseDuration(text) {
  if (typeof text !== 'string') return NaN;
  const units = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  const parts = text.match(/^(?:\d+(?:\.\d+)?(?:h|ms|us|ns|m|s))+$/) &&
    text.match(/\d+(?:\.\d+)?(?:h|ms|us|ns|m|s)/g);
  if (!parts) return text === '0' ? 0 : NaN;
  return parts.reduce((sum, part) => {
    const [, number, unit] = part.match(/^(\d+(?:\.\d+)?)(\D+)$/);
    return sum + Number(number) * units[unit];
  }, 0);
}

// Kubernetes quantities: 100m, 1, 256Mi, 1Gi, 2G.
function parseQuantity(value) {
  const text = String(value);
  const match = text.match(/^(\d+(?:\.\d+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/);
  if (!match) return NaN;
  const factor = {
    undefined: 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
    Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
  }[match[2]];
  return Number(match[1]) * factor;
}

function labelsMatch(selector, labels) {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels || {})) {
    if ((labels || {})[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions || []) {
    const has = Object.prototype.hasOwnProperty.call(labels || {}, expr.key);
    const value = (labels || {})[expr.key];
    switch (expr.operator) {
      case 'In': if (!has || !expr.values.includes(value)) return false; break;
      case 'NotIn': if (has && expr.values.includes(value)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

const isEmptySelector = (selector) => selector !== undefined &&
  Object.keys(selector.matchLabels || {}).length === 0 &&
  (selector.matchExpressions || []).length === 0;

const id = (object) => `${object.kind}/${object.metadata && object.metadata.name}`;

// GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes.
function slug(heading) {
  return heading.trim().toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

// ---------------------------------------------------------------------------
// Schema validation.

const CORE_GROUPS = new Set(['v1', 'apps/v1', 'autoscaling/v2', 'policy/v1',
  'networking.k8s.io/v1']);

function modelFor(object) {
  const { apiVersion, kind } = object;
  if (CORE_GROUPS.has(apiVersion)) {
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind];
  }
  if (apiVersion === 'cert-manager.io/v1') {
    return require(`@kubernetes-models/cert-manager/cert-manager.io/v1/${kind}`)[kind];
  }
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return require(
      `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`)[kind];
  }
  return null;
}

function validateWithModel(Model, data) {
  try {
    new Model(data).validate();
    return [];
  } catch (error) {
    return [error.message];
  }
}

const coreModel = (name) => require(`kubernetes-models/v1/${name}`)[name];

// CloudNativePG (postgresql.cnpg.io/v1): the fields of the operator's API
// this project may use, with their types; unknown fields are errors, so a
// typo cannot pass unnoticed. Embedded Kubernetes types are validated with
// their kubernetes-models schema.
const CNPG_SCHEMA = {
  Cluster: {
    required: ['instances', 'storage', 'bootstrap'],
    fields: {
      description: 'string', inheritedMetadata: 'object', imageName: 'string',
      imageCatalogRef: 'object', imagePullPolicy: 'string',
      schedulerName: 'string', postgresUID: 'integer', postgresGID: 'integer',
      instances: 'integer', minSyncReplicas: 'integer',
      maxSyncReplicas: 'integer', postgresql: 'postgresql',
      replicationSlots: 'object', bootstrap: 'bootstrap', replica: 'object',
      superuserSecret: 'secretRef', enableSuperuserAccess: 'boolean',
      certificates: 'object', imagePullSecrets: 'array', storage: 'storage',
      serviceAccountTemplate: 'object', walStorage: 'storage',
      ephemeralVolumeSource: 'object', startDelay: 'integer',
      stopDelay: 'integer', smartShutdownTimeout: 'integer',
      switchoverDelay: 'integer', failoverDelay: 'integer',
      livenessProbeTimeout: 'integer', affinity: 'affinity',
      topologySpreadConstraints: 'array', resources: 'resources',
      ephemeralVolumesSizeLimit: 'object', priorityClassName: 'string',
      primaryUpdateStrategy: ['unsupervised', 'supervised'],
      primaryUpdateMethod: ['switchover', 'restart'], backup: 'backup',
      nodeMaintenanceWindow: 'object', monitoring: 'object',
      externalClusters: 'array', logLevel: 'string',
      projectedVolumeTemplate: 'object', env: 'array', envFrom: 'array',
      managed: 'managed', seccompProfile: 'object', tablespaces: 'array',
      enablePDB: 'boolean', plugins: 'array', probes: 'object',
    },
  },
  ScheduledBackup: {
    required: ['schedule', 'cluster'],
    fields: {
      suspend: 'boolean', immediate: 'boolean', schedule: 'cron6',
      cluster: 'localRef', backupOwnerReference: ['none', 'self', 'cluster'],
      target: ['primary', 'prefer-standby'],
      method: ['barmanObjectStore', 'volumeSnapshot', 'plugin'],
      pluginConfiguration: 'object', online: 'boolean',
      onlineConfiguration: 'object',
    },
  },
};
const CNPG_TYPES = {
  postgresql: {
    parameters: 'stringMap', synchronous: 'object', pg_hba: 'stringArray',
    pg_ident: 'stringArray', syncReplicaElectionConstraint: 'object',
    shared_preload_libraries: 'stringArray', ldap: 'object',
    promotionTimeout: 'integer', enableAlterSystem: 'boolean',
    extensions: 'array',
  },
  bootstrap: { initdb: 'initdb', recovery: 'object', pg_basebackup: 'object' },
  initdb: {
    database: 'string', owner: 'string', secret: 'localRef',
    options: 'stringArray', dataChecksums: 'boolean', encoding: 'string',
    localeCollate: 'string', localeCType: 'string', locale: 'string',
    localeProvider: 'string', icuLocale: 'string', icuRules: 'string',
    builtinLocale: 'string', walSegmentSize: 'integer',
    postInitSQL: 'stringArray', postInitApplicationSQL: 'stringArray',
    postInitTemplateSQL: 'stringArray', import: 'object',
    postInitApplicationSQLRefs: 'object', postInitTemplateSQLRefs: 'object',
    postInitSQLRefs: 'object',
  },
  storage: {
    storageClass: 'string', size: 'quantity', resizeInUseVolumes: 'boolean',
    pvcTemplate: 'object',
  },
  affinity: {
    enablePodAntiAffinity: 'boolean', topologyKey: 'string',
    nodeSelector: 'stringMap', nodeAffinity: 'object', tolerations: 'array',
    podAntiAffinityType: ['preferred', 'required'],
    additionalPodAntiAffinity: 'object', additionalPodAffinity: 'object',
  },
  backup: {
    volumeSnapshot: 'object', barmanObjectStore: 'barmanObjectStore',
    retentionPolicy: 'retention', target: ['primary', 'prefer-standby'],
  },
  barmanObjectStore: {
    serverName: 'string', destinationPath: 'string', endpointURL: 'string',
    endpointCA: 'secretKeyRef', s3Credentials: 's3Credentials',
    azureCredentials: 'object', googleCredentials: 'object',
    wal: 'walBackup', data: 'dataBackup', tags: 'stringMap',
    historyTags: 'stringMap',
  },
  s3Credentials: {
    accessKeyId: 'secretKeyRef', secretAccessKey: 'secretKeyRef',
    region: 'secretKeyRef', sessionToken: 'secretKeyRef',
    inheritFromIAMRole: 'boolean',
  },
  walBackup: {
    compression: ['gzip', 'bzip2', 'snappy'], encryption: 'string',
    maxParallel: 'integer', archiveAdditionalCommandArgs: 'stringArray',
    restoreAdditionalCommandArgs: 'stringArray',
  },
  dataBackup: {
    compression: ['gzip', 'bzip2', 'snappy'], encryption: 'string',
    jobs: 'integer', immediateCheckpoint: 'boolean',
    additionalCommandArgs: 'stringArray',
  },
  managed: { roles: 'roles', services: 'object' },
  role: {
    name: 'string', comment: 'string', ensure: ['present', 'absent'],
    disablePassword: 'boolean', passwordSecret: 'localRef',
    validUntil: 'string', inRoles: 'stringArray', inherit: 'boolean',
    connectionLimit: 'integer', superuser: 'boolean', createdb: 'boolean',
    createrole: 'boolean', login: 'boolean', replication: 'boolean',
    bypassrls: 'boolean',
  },
  localRef: { name: 'string' },
  secretRef: { name: 'string' },
  secretKeyRef: { name: 'string', key: 'string' },
};

function checkCnpgValue(type, value, where, errors) {
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (Array.isArray(type)) {
    if (!type.includes(value)) errors.push(`${where} must be one of ${type.join(', ')}`);
    return;
  }
  switch (type) {
    case 'string': if (typeof value !== 'string') errors.push(`${where} must be a string`); return;
    case 'integer': if (!Number.isInteger(value)) errors.push(`${where} must be an integer`); return;
    case 'boolean': if (typeof value !== 'boolean') errors.push(`${where} must be a boolean`); return;
    case 'object': if (!isObject) errors.push(`${where} must be an object`); return;
    case 'array': if (!Array.isArray(value)) errors.push(`${where} must be a list`); return;
    case 'stringArray':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        errors.push(`${where} must be a list of strings`);
      }
      return;
    case 'stringMap':
      if (!isObject || Object.values(value).some((v) => typeof v !== 'string')) {
        errors.push(`${where} must map names to strings`);
      }
      return;
    case 'quantity':
      if (Number.isNaN(parseQuantity(value))) errors.push(`${where} is not a quantity`);
      return;
    case 'retention':
      if (!/^[1-9][0-9]*[dwm]$/.test(value)) errors.push(`${where} must be like 30d, 4w or 3m`);
      return;
    case 'cron6':
      if (typeof value !== 'string' || value.trim().split(/\s+/).length !== 6) {
        errors.push(`${where} must be a six-field cron schedule (seconds first)`);
      }
      return;
    case 'resources':
      for (const e of validateWithModel(coreModel('ResourceRequirements'), value)) {
        errors.push(`${where}: ${e}`);
      }
      return;
    case 'roles':
      if (!Array.isArray(value)) { errors.push(`${where} must be a list`); return; }
      value.forEach((role, i) => {
        checkCnpgFields(CNPG_TYPES.role, role, `${where}[${i}]`, errors);
        if (!role || typeof role.name !== 'string') errors.push(`${where}[${i}].name is required`);
      });
      return;
    default:
      checkCnpgFields(CNPG_TYPES[type], value, where, errors);
  }
}

function checkCnpgFields(fields, value, where, errors) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${where} must be an object`);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (!(key in fields)) {
      errors.push(`${where}.${key} is not a field of the CloudNativePG API`);
      continue;
    }
    checkCnpgValue(fields[key], child, `${where}.${key}`, errors);
  }
}

function validateCnpg(object) {
  const schema = CNPG_SCHEMA[object.kind];
  if (!schema) return [`no schema for postgresql.cnpg.io/v1 ${object.kind}`];
  const errors = [];
  const meta = validateWithModel(
    require('@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta').ObjectMeta,
    object.metadata);
  errors.push(...meta.map((e) => `metadata: ${e}`));
  for (const key of Object.keys(object)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) {
      errors.push(`${key} is not a top-level field`);
    }
  }
  const spec = object.spec || {};
  for (const field of schema.required) {
    if (spec[field] === undefined) errors.push(`spec.${field} is required`);
  }
  checkCnpgFields(schema.fields, spec, 'spec', errors);
  return errors;
}

function validateSchema(object) {
  if (!object || typeof object !== 'object' || !object.apiVersion || !object.kind ||
      !object.metadata || !object.metadata.name) {
    return ['not a Kubernetes object (apiVersion, kind and metadata.name needed)'];
  }
  if (object.apiVersion === 'postgresql.cnpg.io/v1') return validateCnpg(object);
  let Model;
  try {
    Model = modelFor(object);
  } catch (_) {
    Model = null;
  }
  if (!Model) return [`no schema known for ${object.apiVersion} ${object.kind}`];
  return validateWithModel(Model, object);
}

// ---------------------------------------------------------------------------
// What the built binaries accept.

function binaryOptions(build, service) {
  const binary = path.join(build, 'services', service, `kosapo-${service}`);
  if (!fs.existsSync(binary)) {
    return { error: `${binary} is not built: build the project first ` +
      '(cmake --build build); the check reads each binary\'s --help' };
  }
  const run = spawnSync(binary, ['--help'], { encoding: 'utf8', timeout: 10000 });
  if (run.status !== 0) {
    return { error: `${binary} --help failed: ${run.stderr || run.error}` };
  }
  // "  --flag  [env NAME]\n      Help text. (default VALUE)", one block each.
  const env = new Map();
  for (const block of run.stdout.split(/\n(?=\s+--)/)) {
    const head = block.match(/^\s+--(\S+)\s+\[env (\S+)\]/);
    const def = block.match(/\(default ([^)]*)\)\s*$/);
    if (head) env.set(head[2], { flag: head[1], default: def ? def[1] : undefined });
  }
  if (env.size < 10) return { error: `${binary} --help lists no options in the expected form` };
  return { binary, env };
}

let keyFile = null;
function publicKeyFile() {
  if (!keyFile) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kosapo-deploy-check-'));
    const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    keyFile = path.join(dir, 'jwt.pub');
    fs.writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return keyFile;
}

// Starts the binary with exactly the ConfigMap's settings (plus a key file
// and an unreachable database it must not wait for): every value must parse
// (exit 2 and "invalid configuration" otherwise); it then fails to reach the
// database (exit 1).
let tlsDir = null;
function tlsFiles(source) {
  if (!tlsDir) {
    tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kosapo-deploy-tls-'));
    process.on('exit', () => fs.rmSync(tlsDir, { recursive: true, force: true }));
    const run = spawnSync(path.join(source, 'scripts', 'dev-ca.sh'),
      [tlsDir, '--service', 'check'], { encoding: 'utf8', timeout: 60000 });
    if (run.status !== 0) throw new Error(`scripts/dev-ca.sh failed: ${run.stderr}`);
  }
  const dir = path.join(tlsDir, 'service', 'check');
  return {
    KOSAPO_TLS_CERT_FILE: path.join(dir, 'tls.crt'),
    KOSAPO_TLS_KEY_FILE: path.join(dir, 'tls.key'),
    KOSAPO_TLS_CA_FILE: path.join(dir, 'ca.crt'),
  };
}

// A key directory holding the ConfigMap's active field key, as the mounted
// Secret would.
let fieldKeysDir = null;
function fieldKeys(data) {
  if (!fieldKeysDir) {
    fieldKeysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kosapo-deploy-field-keys-'));
    process.on('exit', () => fs.rmSync(fieldKeysDir, { recursive: true, force: true }));
  }
  const id = data.KOSAPO_FIELD_KEY_ID || 'none';
  fs.writeFileSync(path.join(fieldKeysDir, `${id}.key`), crypto.randomBytes(32).toString('base64'),
    { mode: 0o600 });
  return { KOSAPO_FIELD_KEYS_DIR: fieldKeysDir };
}

function startWithConfig(binary, data, source) {
  const env = {
    PATH: process.env.PATH || '/usr/bin:/bin',
    ...data,
    // The Secret-backed files, as the mounts would hold them.
    ...(data.KOSAPO_TLS_CERT_FILE ? tlsFiles(source) : {}),
    ...(data.KOSAPO_FIELD_KEYS_DIR ? fieldKeys(data) : {}),
    KOSAPO_JWT_PUBLIC_KEY_FILE: publicKeyFile(),
    KOSAPO_DB_URL: 'postgresql://kosapo_check:x@127.0.0.1:1/kosapo?connect_timeout=1',
    KOSAPO_DB_STARTUP_TIMEOUT: '0s',
  };
  const run = spawnSync(binary, [], { env, encoding: 'utf8', timeout: 20000 });
  const output = `${run.stdout || ''}${run.stderr || ''}`;
  if (run.status === 1 && /start-up failed/.test(output)) return null;
  const line = output.split('\n').find((l) => /invalid configuration|error/i.test(l)) ||
    output.split('\n')[0];
  return `exit ${run.status === null ? run.signal : run.status}: ${line}`;
}

// ---------------------------------------------------------------------------
// The rules. Each check reports failures as { rule, where, message }.

class Report {
  constructor(scope) {
    this.scope = scope;
    this.failures = [];
  }

  fail(rule, where, message) {
    this.failures.push({ rule, where: `${this.scope}: ${where}`, message });
  }

  expect(condition, rule, where, message) {
    if (!condition) this.fail(rule, where, message);
    return Boolean(condition);
  }
}

function index(objects) {
  const byKind = {};
  for (const object of objects) {
    (byKind[object.kind] = byKind[object.kind] || []).push(object);
  }
  const named = (kind, name) => (byKind[kind] || []).find((o) => o.metadata.name === name);
  return { byKind, named, all: (kind) => byKind[kind] || [] };
}

function checkSecretsByReference(objects, r, readme) {
  const referenced = new Set();
  for (const object of objects) {
    r.expect(object.kind !== 'Secret', 'secrets-by-reference', id(object),
      'Secrets must not be in the manifests; reference one created by the operator');
    const walk = (value, where) => {
      if (Array.isArray(value)) {
        value.forEach((v, i) => walk(v, `${where}[${i}]`));
      } else if (value && typeof value === 'object') {
        if (value.secretKeyRef) referenced.add(value.secretKeyRef.name);
        if (value.secret && value.secret.secretName) referenced.add(value.secret.secretName);
        if (value.passwordSecret) referenced.add(value.passwordSecret.name);
        // A cert-manager CA Issuer's key pair.
        if (value.ca && typeof value.ca.secretName === 'string') referenced.add(value.ca.secretName);
        if (value.accessKeyId && value.accessKeyId.name) referenced.add(value.accessKeyId.name);
        if (value.secretAccessKey && value.secretAccessKey.name) {
          referenced.add(value.secretAccessKey.name);
        }
        if (typeof value.name === 'string' && typeof value.value === 'string' &&
            /PASSWORD|SECRET|TOKEN|DB_URL|PRIVATE/i.test(value.name)) {
          r.fail('secrets-by-reference', `${id(object)} ${where}`,
            `${value.name} is set inline; take it from a Secret`);
        }
        for (const [key, child] of Object.entries(value)) walk(child, `${where}.${key}`);
      }
    };
    walk(object, '');
    if (object.kind === 'ConfigMap') {
      for (const [key, value] of Object.entries(object.data || {})) {
        r.expect(!/PASSWORD|SECRET|PRIVATE|DB_URL$/i.test(key) &&
          !/:\/\/[^/\s:@]+:[^/\s@]+@/.test(String(value)), 'secrets-by-reference',
        `${id(object)} ${key}`, 'looks like a credential in a ConfigMap');
      }
    }
  }
  for (const name of referenced) {
    if (GENERATED_SECRETS.has(name)) continue;
    r.expect(readme.includes(name), 'secrets-documented', `Secret ${name}`,
      'is referenced but deploy/README.md does not say how to create it');
  }
  return referenced;
}

function checkService(service, objects, ix, r, options, namespace) {
  const spec = SERVICES[service];
  const name = app(service);
  const deployment = ix.named('Deployment', name);
  if (!r.expect(deployment, 'per-service-objects', name, 'no Deployment')) return null;
  for (const kind of ['Service', 'ServiceAccount', 'PodDisruptionBudget',
    'HorizontalPodAutoscaler', 'NetworkPolicy']) {
    r.expect(ix.named(kind, name), 'per-service-objects', name, `no ${kind} ${name}`);
  }
  const pod = deployment.spec.template;
  const podLabels = pod.metadata.labels || {};
  const podSpec = pod.spec;
  r.expect(labelsMatch(deployment.spec.selector, podLabels), 'selectors', id(deployment),
    'selector does not match its pod template');

  // Replicas belong to the autoscaler.
  const hpa = ix.named('HorizontalPodAutoscaler', name);
  r.expect(deployment.spec.replicas === undefined, 'hpa-owns-replicas', id(deployment),
    'sets spec.replicas although the HorizontalPodAutoscaler owns the count');
  if (hpa) {
    const target = hpa.spec.scaleTargetRef;
    r.expect(target.kind === 'Deployment' && target.name === name, 'hpa', id(hpa),
      `scales ${target.kind}/${target.name}, not Deployment/${name}`);
    r.expect(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas >= hpa.spec.minReplicas,
      'hpa', id(hpa), 'needs 1 <= minReplicas <= maxReplicas');
  }
  const rolling = (deployment.spec.strategy || {}).rollingUpdate || {};
  r.expect(rolling.maxUnavailable === 0 || rolling.maxUnavailable === '0%', 'rollout',
    id(deployment), 'rolling updates must keep every serving pod until its replacement is ready (maxUnavailable: 0)');

  const pdb = ix.named('PodDisruptionBudget', name);
  if (pdb) {
    r.expect(labelsMatch(pdb.spec.selector, podLabels), 'pdb', id(pdb), 'does not select the pods');
    r.expect(pdb.spec.maxUnavailable !== undefined || pdb.spec.minAvailable !== undefined,
      'pdb', id(pdb), 'sets neither maxUnavailable nor minAvailable');
    if (hpa && pdb.spec.minAvailable !== undefined) {
      r.expect(Number(pdb.spec.minAvailable) < hpa.spec.minReplicas, 'pdb', id(pdb),
        'minAvailable blocks every eviction at the autoscaler\'s minimum');
    }
  }

  // Pod level.
  const sa = ix.named('ServiceAccount', podSpec.serviceAccountName);
  r.expect(podSpec.serviceAccountName === name && sa, 'service-account', id(deployment),
    `runs as ServiceAccount ${podSpec.serviceAccountName}, expected its own (${name})`);
  r.expect(podSpec.automountServiceAccountToken === false &&
    (!sa || sa.automountServiceAccountToken === false), 'service-account', id(deployment),
  'mounts a Kubernetes API token it never uses (automountServiceAccountToken: false)');
  const podSecurity = podSpec.securityContext || {};
  r.expect(!podSpec.hostNetwork && !podSpec.hostPID && !podSpec.hostIPC, 'security-context',
    id(deployment), 'uses the host\'s namespaces');
  for (const volume of podSpec.volumes || []) {
    r.expect(!volume.hostPath, 'security-context', `${id(deployment)} volume ${volume.name}`,
      'hostPath volumes are not allowed');
  }

  if (!r.expect((podSpec.containers || []).length === 1, 'containers', id(deployment),
    'expected exactly one container')) return null;
  for (const container of [...(podSpec.initContainers || []), ...podSpec.containers]) {
    const where = `${id(deployment)} container ${container.name}`;
    const sc = container.securityContext || {};
    r.expect(sc.runAsNonRoot === true || (podSecurity.runAsNonRoot === true && sc.runAsNonRoot !== false),
      'security-context', where, 'runAsNonRoot must be true');
    r.expect((sc.runAsUser === undefined ? podSecurity.runAsUser : sc.runAsUser) !== 0,
      'security-context', where, 'runs as user 0');
    r.expect(sc.allowPrivilegeEscalation === false, 'security-context', where,
      'allowPrivilegeEscalation must be false');
    r.expect(sc.readOnlyRootFilesystem === true, 'security-context', where,
      'readOnlyRootFilesystem must be true');
    r.expect(sc.privileged !== true, 'security-context', where, 'must not be privileged');
    const caps = sc.capabilities || {};
    r.expect((caps.drop || []).includes('ALL'), 'security-context', where,
      'capabilities must drop ALL');
    r.expect((caps.add || []).length === 0, 'security-context', where,
      `adds capabilities ${JSON.stringify(caps.add)}`);
    const seccomp = sc.seccompProfile || podSecurity.seccompProfile || {};
    r.expect(seccomp.type === 'RuntimeDefault', 'security-context', where,
      'seccompProfile must be RuntimeDefault');

    // Image: from the overlay's registry, with a tag or digest.
    const image = container.image || '';
    r.expect(/^[^/]+\.[^/]+\/.+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(image) &&
      !/:latest$/.test(image), 'image', where,
    `image ${image} needs a registry and a pinned tag or digest (not latest)`);

    // Resources.
    const res = container.resources || {};
    for (const kind of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory']) {
        r.expect(res[kind] && res[kind][resource] !== undefined, 'resources', where,
          `no ${resource} ${kind}`);
      }
    }
    if (res.requests && res.limits) {
      for (const resource of ['cpu', 'memory']) {
        r.expect(!(parseQuantity(res.requests[resource]) > parseQuantity(res.limits[resource])),
          'resources', where, `${resource} request above its limit`);
      }
    }

    // Mounts of Secrets: read-only, no subPath (rotation needs the updates).
    const secretVolumes = new Map((podSpec.volumes || []).filter((v) => v.secret)
      .map((v) => [v.name, v]));
    for (const mount of container.volumeMounts || []) {
      if (!secretVolumes.has(mount.name)) continue;
      r.expect(mount.readOnly === true, 'secret-mounts', `${where} mount ${mount.name}`,
        'Secret mounts must be readOnly');
      r.expect(!mount.subPath, 'secret-mounts', `${where} mount ${mount.name}`,
        'a subPath mount never sees a rotated Secret');
    }
  }

  const container = podSpec.containers[0];
  const where = `${id(deployment)} container ${container.name}`;

  // Migrations: an init container runs the same binary with --migrate_only
  // as the schema's owner (and grants the runtime role); the service
  // container has the runtime role only, checks that the migrations are
  // applied, and never sees an owner's password.
  const envOf = (c) => new Map((c.env || []).map((e) => [e.name, e]));
  const secretOf = (entry) => entry && entry.valueFrom && entry.valueFrom.secretKeyRef &&
    entry.valueFrom.secretKeyRef.name;
  const migrate = (podSpec.initContainers || []).find((c) => c.name === 'migrate');
  if (r.expect(migrate, 'migrations', id(deployment),
    'no init container "migrate" running --migrate_only with the owner role')) {
    const at = `${id(deployment)} init container migrate`;
    const env = envOf(migrate);
    r.expect(migrate.image === container.image && !migrate.command &&
      (migrate.args || []).includes('--migrate_only'), 'migrations', at,
    'must run the service\'s own image and binary with --migrate_only');
    r.expect(secretOf(env.get('KOSAPO_DB_MIGRATION_URL')) === `${name}-db-owner`, 'migrations', at,
      `KOSAPO_DB_MIGRATION_URL must come from the Secret ${name}-db-owner`);
    r.expect(secretOf(env.get('KOSAPO_DB_URL')) === `${name}-db`, 'migrations', at,
      `KOSAPO_DB_URL (the role granted to) must come from the Secret ${name}-db`);
    r.expect(JSON.stringify(migrate.securityContext) === JSON.stringify(container.securityContext),
      'migrations', at, 'must have the same securityContext as the service container');
    r.expect(JSON.stringify(migrate.envFrom) === JSON.stringify(container.envFrom), 'migrations', at,
      'must read the same ConfigMap as the service container');
    if (options) {
      for (const entry of migrate.env || []) {
        r.expect(options.env.has(entry.name), 'config', at,
          `${entry.name} is not an option of kosapo-${service}`);
      }
    }
  }
  r.expect((envOf(container).get('KOSAPO_MIGRATIONS') || {}).value === 'check', 'migrations', where,
    'must run with KOSAPO_MIGRATIONS=check: the init container migrates');
  const mountedSecrets = (container.volumeMounts || []).map((m) =>
    ((podSpec.volumes || []).find((v) => v.name === m.name) || {}).secret)
    .filter(Boolean).map((secret) => secret.secretName);
  r.expect(!envOf(container).has('KOSAPO_DB_MIGRATION_URL') &&
    !/-db-owner"/.test(JSON.stringify(container)) &&
    !mountedSecrets.some((secretName) => /-db-owner$/.test(secretName)), 'migrations', where,
  'the service container must not see a schema owner\'s Secret (*-db-owner)');

  const ports = new Map((container.ports || []).map((p) => [p.name, p.containerPort]));
  r.expect(ports.get('grpc') === spec.port && ports.get('metrics') === spec.metrics &&
    ports.get('health') === spec.health, 'ports', where,
  `expected ports grpc=${spec.port}, metrics=${spec.metrics}, health=${spec.health}`);

  // Probes: native gRPC on the health service, at the plaintext health port
  // (the kubelet presents no client certificate to the mutual-TLS port).
  const probe = (kind) => container[kind] || {};
  for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const p = probe(kind);
    r.expect(p.grpc && p.grpc.port === spec.health, 'probes', where,
      `${kind} must be a native gRPC probe on the health port ${spec.health}`);
  }
  r.expect(((probe('livenessProbe').grpc || {}).service || '') === '', 'probes', where,
    'livenessProbe must ask the empty service name (process alive), so a database outage never restarts pods');
  r.expect((probe('readinessProbe').grpc || {}).service === spec.grpc, 'probes', where,
    `readinessProbe must ask ${spec.grpc} (NOT_SERVING while the database is unreachable)`);
  r.expect(((probe('startupProbe').grpc || {}).service || '') === '', 'probes', where,
    'startupProbe must ask the empty service name');

  // Configuration.
  const configRefs = (container.envFrom || []).filter((e) => e.configMapRef)
    .map((e) => e.configMapRef.name);
  const configMap = configRefs.length === 1 ? ix.named('ConfigMap', configRefs[0]) : null;
  if (!r.expect(configMap, 'config', where, 'needs exactly one envFrom ConfigMap that exists')) {
    return null;
  }
  const data = configMap.data || {};
  const envEntries = container.env || [];
  const dbUrl = envEntries.find((e) => e.name === 'KOSAPO_DB_URL');
  r.expect(dbUrl && dbUrl.valueFrom && dbUrl.valueFrom.secretKeyRef &&
    dbUrl.valueFrom.secretKeyRef.name === `${name}-db`, 'secrets-by-reference', where,
  `KOSAPO_DB_URL must come from the Secret ${name}-db`);
  r.expect(data.PORT === String(spec.port) && data.KOSAPO_METRICS_PORT === String(spec.metrics) &&
    data.KOSAPO_HEALTH_PORT === String(spec.health), 'config', id(configMap),
  'PORT, KOSAPO_METRICS_PORT and KOSAPO_HEALTH_PORT must match the container ports');
  r.expect(data.KOSAPO_DB_SCHEMA === spec.schema, 'config', id(configMap),
    `KOSAPO_DB_SCHEMA must be ${spec.schema}`);

  const grace = podSpec.terminationGracePeriodSeconds === undefined ? 30 :
    podSpec.terminationGracePeriodSeconds;
  const opt = (env, fallback) => (data[env] !== undefined ? data[env] :
    ((options && options.env.get(env)) || {}).default || fallback);
  const drain = parseDuration(opt('KOSAPO_DRAIN_DELAY', '5s'));
  const shutdown = parseDuration(opt('KOSAPO_SHUTDOWN_TIMEOUT', '20s'));
  r.expect(grace > drain + shutdown, 'termination-grace', id(deployment),
    `terminationGracePeriodSeconds (${grace}) must exceed drain delay + shutdown timeout (${drain}s + ${shutdown}s)`);
  const readiness = probe('readinessProbe');
  r.expect(drain >= (readiness.periodSeconds || 10), 'termination-grace', id(configMap),
    `KOSAPO_DRAIN_DELAY (${drain}s) should cover one readiness period (${readiness.periodSeconds || 10}s)`);
  const startup = probe('startupProbe');
  const startupBudget = (startup.periodSeconds || 10) * (startup.failureThreshold || 3) +
    (startup.initialDelaySeconds || 0);
  const dbStartup = parseDuration(opt('KOSAPO_DB_STARTUP_TIMEOUT', '1m'));
  r.expect(startupBudget >= dbStartup + 60, 'probes', where,
    `startupProbe allows ${startupBudget}s; it must cover waiting for the database (${dbStartup}s) plus a minute of migrations`);
  const maxAge = parseDuration(opt('KOSAPO_MAX_CONNECTION_AGE', '30m'));
  r.expect(maxAge > 0, 'load-balancing', id(configMap),
    'KOSAPO_MAX_CONNECTION_AGE must be set (clients must reconnect to reach new replicas)');

  // Secret-backed files.
  const mountOf = (file) => {
    for (const mount of container.volumeMounts || []) {
      const volume = (podSpec.volumes || []).find((v) => v.name === mount.name);
      if (!volume || !volume.secret || path.dirname(file) !== mount.mountPath) continue;
      const items = volume.secret.items;
      if (!items || items.some((item) => item.path === path.basename(file))) return volume;
    }
    return null;
  };
  r.expect(mountOf(data.KOSAPO_JWT_PUBLIC_KEY_FILE || ''), 'secrets-by-reference', id(configMap),
    'KOSAPO_JWT_PUBLIC_KEY_FILE must be a file of a mounted Secret');
  const peerEnvs = [...(options ? options.env.keys() : [])]
    .filter((env) => /^KOSAPO_[A-Z]+_ADDRESS$/.test(env));
  // Mutual TLS: certificate, key and CA are files of the service's own TLS
  // Secret (its identity), and plaintext is never configured.
  for (const env of ['KOSAPO_TLS_CERT_FILE', 'KOSAPO_TLS_KEY_FILE', 'KOSAPO_TLS_CA_FILE']) {
    const volume = mountOf(data[env] || '');
    r.expect(volume && volume.secret.secretName === `${name}-tls`, 'tls', id(configMap),
      `${env} must be a file of the mounted Secret ${name}-tls`);
  }
  r.expect(!/^(true|1|yes)$/i.test(data.KOSAPO_INSECURE_PLAINTEXT || ''), 'tls', id(configMap),
    'KOSAPO_INSECURE_PLAINTEXT is for local development only');
  r.expect(data.KOSAPO_PEER_TOKEN_FILE === undefined, 'tls', id(configMap),
    'services call peers with their certificates; KOSAPO_PEER_TOKEN_FILE is not used over TLS');
  // Field encryption: the key directory is the service's own mounted
  // Secret (a Secret volume is readOnly and without subPath, checked above),
  // an active key is named, and free text is never stored in plaintext.
  if (spec.fieldKeys) {
    const dir = data.KOSAPO_FIELD_KEYS_DIR || '';
    const mount = (container.volumeMounts || []).find((m) => m.mountPath === dir);
    const volume = mount && (podSpec.volumes || []).find((v) => v.name === mount.name);
    r.expect(volume && volume.secret && volume.secret.secretName === `${name}-field-keys` &&
      !volume.secret.items, 'field-keys', id(configMap),
    `KOSAPO_FIELD_KEYS_DIR must be the mount of the whole Secret ${name}-field-keys`);
    r.expect(/^[A-Za-z0-9_-]+$/.test(data.KOSAPO_FIELD_KEY_ID || ''), 'field-keys', id(configMap),
      'KOSAPO_FIELD_KEY_ID must name the active key (a <id>.key file of the Secret)');
  }
  r.expect(!/^(true|1|yes)$/i.test(data.KOSAPO_INSECURE_PLAINTEXT_FIELDS || ''), 'field-keys',
    id(configMap), 'KOSAPO_INSECURE_PLAINTEXT_FIELDS is for local development only');
  for (const peer of spec.peers) {
    const env = `KOSAPO_${peer.toUpperCase()}_ADDRESS`;
    r.expect(data[env] === `dns:///${app(peer)}:${SERVICES[peer].port}`, 'peers', id(configMap),
      `${env} must be dns:///${app(peer)}:${SERVICES[peer].port} (the headless Service)`);
  }
  if (options) {
    for (const env of peerEnvs) {
      const peer = env.slice('KOSAPO_'.length, -'_ADDRESS'.length).toLowerCase();
      r.expect(spec.peers.includes(peer), 'peers', id(configMap),
        `the binary calls ${peer} (${env}) but the architecture here does not know that call`);
      r.expect(data[env] !== undefined, 'peers', id(configMap),
        `${env} is not set: the binary would call its default (localhost)`);
    }
    for (const key of Object.keys(data)) {
      r.expect(options.env.has(key), 'config', id(configMap),
        `${key} is not an option of kosapo-${service} (see its --help)`);
    }
    for (const entry of envEntries) {
      r.expect(options.env.has(entry.name), 'config', where,
        `${entry.name} is not an option of kosapo-${service}`);
    }
    const tz = data.KOSAPO_TIME_ZONE;
    if (tz !== undefined) {
      r.expect(fs.existsSync(path.join('/usr/share/zoneinfo', tz)), 'config', id(configMap),
        `KOSAPO_TIME_ZONE ${tz} is not a time zone`);
    }
  }

  // The headless Service.
  const svc = ix.named('Service', name);
  if (svc) {
    r.expect(svc.spec.clusterIP === 'None', 'headless-service', id(svc),
      'must be headless (clusterIP: None) so clients balance over every pod');
    r.expect(labelsMatch({ matchLabels: svc.spec.selector }, podLabels), 'selectors', id(svc),
      'does not select the pods');
    const svcPorts = new Map((svc.spec.ports || []).map((p) => [p.name, p]));
    for (const [portName, number] of [['grpc', spec.port], ['metrics', spec.metrics]]) {
      const p = svcPorts.get(portName);
      r.expect(p && p.port === number &&
        (p.targetPort === portName || p.targetPort === number || p.targetPort === undefined),
      'headless-service', id(svc), `port ${portName} must be ${number}, to the container's ${portName}`);
    }
  }

  for (const object of objects) {
    if (object.kind === 'Namespace') continue;
    r.expect(object.metadata.namespace === namespace, 'namespace', id(object),
      `is in namespace ${object.metadata.namespace}, expected ${namespace}`);
  }
  return { deployment, configMap, data, hpa, podLabels, options };
}

// The network: workloads of the namespace (the four services and the
// database instances), and which flows the policies allow between them and
// to the outside.
function checkNetwork(ix, r, workloads) {
  const policies = ix.all('NetworkPolicy');
  const denyAll = policies.find((p) => isEmptySelector(p.spec.podSelector) &&
    (p.spec.policyTypes || []).includes('Ingress') && (p.spec.policyTypes || []).includes('Egress') &&
    !(p.spec.ingress || []).length && !(p.spec.egress || []).length);
  r.expect(denyAll, 'network-default-deny', 'NetworkPolicy',
    'no default-deny policy (empty podSelector, Ingress and Egress, no rules)');

  const selecting = (labels) => policies.filter((p) => labelsMatch(p.spec.podSelector, labels) ||
    isEmptySelector(p.spec.podSelector));
  for (const [name, labels] of workloads) {
    const own = policies.filter((p) => !isEmptySelector(p.spec.podSelector) &&
      labelsMatch(p.spec.podSelector, labels));
    r.expect(own.length >= 1, 'network-policy-per-service', name, 'no NetworkPolicy of its own');
  }

  // A peer clause of a rule, as the set of workloads it admits, or an
  // outside party (namespace or address block).
  const describePeer = (peer) => {
    if (peer.ipBlock) return { outside: `ipBlock ${peer.ipBlock.cidr}` };
    if (peer.namespaceSelector) {
      const ns = peer.namespaceSelector.matchLabels || {};
      const pods = peer.podSelector ? JSON.stringify(peer.podSelector.matchLabels || {}) : 'all pods';
      return { outside: `namespaces ${JSON.stringify(ns)} ${pods}`, namespaceSelector: peer.namespaceSelector };
    }
    const matched = [...workloads].filter(([, labels]) => labelsMatch(peer.podSelector, labels) ||
      isEmptySelector(peer.podSelector)).map(([name]) => name);
    return { workloads: matched, any: isEmptySelector(peer.podSelector) };
  };

  // Does the policy set allow traffic of direction `dir` on `target` with
  // `other` (a workload name) on `port`? Returns true/false.
  const allows = (target, dir, other, port) => {
    const labels = workloads.get(target);
    const relevant = selecting(labels).filter((p) =>
      (p.spec.policyTypes || ['Ingress']).includes(dir === 'ingress' ? 'Ingress' : 'Egress'));
    if (!relevant.length) return true;
    for (const p of relevant) {
      for (const rule of p.spec[dir] || []) {
        const peers = rule[dir === 'ingress' ? 'from' : 'to'];
        const portOk = !rule.ports || !rule.ports.length ||
          rule.ports.some((rp) => rp.port === port && (rp.protocol || 'TCP') === 'TCP');
        if (!portOk) continue;
        if (!peers || !peers.length) return true;
        if (peers.some((peer) => {
          const d = describePeer(peer);
          return d.workloads && d.workloads.includes(other);
        })) return true;
      }
    }
    return false;
  };

  // Ports each workload listens on.
  const listens = new Map();
  for (const [service, spec] of Object.entries(SERVICES)) {
    listens.set(app(service), [spec.port, spec.metrics]);
  }
  listens.set(DB_CLUSTER, [DB_PORT, 8000, 9187]);
  const expected = new Set();
  for (const [service, spec] of Object.entries(SERVICES)) {
    for (const peer of spec.peers) expected.add(`${app(service)}>${app(peer)}:${SERVICES[peer].port}`);
    expected.add(`${app(service)}>${DB_CLUSTER}:${DB_PORT}`);
  }
  expected.add(`${DB_CLUSTER}>${DB_CLUSTER}:${DB_PORT}`);
  expected.add(`${DB_CLUSTER}>${DB_CLUSTER}:8000`);

  for (const source of workloads.keys()) {
    for (const target of workloads.keys()) {
      for (const port of listens.get(target) || []) {
        const flow = `${source}>${target}:${port}`;
        const egress = allows(source, 'egress', target, port);
        const ingress = allows(target, 'ingress', source, port);
        if (expected.has(flow) && !(egress && ingress)) {
          r.fail('network-matrix', flow, 'a call the architecture makes is blocked by the ' +
            `NetworkPolicies (${egress ? 'ingress' : 'egress'} side)`);
        } else if (!expected.has(flow) && (egress || ingress)) {
          // Each side must be exact on its own, not just their intersection.
          r.fail('network-matrix', flow, `${egress && ingress ? 'allowed' :
            `${egress ? 'egress' : 'ingress'} side allows it`} although the architecture makes no such call`);
        }
      }
    }
  }

  // What comes from and goes to the outside, per service policy.
  for (const [service, spec] of Object.entries(SERVICES)) {
    const policy = ix.named('NetworkPolicy', app(service));
    if (!policy) continue;
    const ingressFrom = new Map();
    // Kubelet probes come from the node's address: the health port (and it
    // alone) is open to any source.
    const onlyHealth = (rule) => (rule.ports || []).length > 0 &&
      rule.ports.every((p) => p.port === spec.health);
    r.expect((policy.spec.ingress || []).some((rule) => !(rule.from || []).length && onlyHealth(rule)),
      'network-health-probes', id(policy), `kubelet's probes must reach the health port ${spec.health}`);
    for (const rule of policy.spec.ingress || []) {
      r.expect(((rule.from || []).length > 0 || onlyHealth(rule)) && (rule.ports || []).length > 0,
        'network-exact', id(policy), 'an ingress rule without sources or ports admits everything');
      for (const peer of rule.from || []) {
        const d = describePeer(peer);
        if (!d.outside) continue;
        for (const p of rule.ports || []) {
          ingressFrom.set(`${d.outside}:${p.port}`, d);
        }
      }
    }
    const outside = [...ingressFrom.keys()];
    const prometheus = outside.filter((k) => /prometheus/.test(k));
    r.expect(prometheus.length === 1 && prometheus[0].endsWith(`:${spec.metrics}`), 'network-prometheus',
      id(policy), `Prometheus must reach the metrics port ${spec.metrics} and nothing else`);
    const gateway = outside.filter((k) => !/prometheus/.test(k));
    r.expect(gateway.length === 1 && gateway[0].endsWith(`:${spec.port}`) &&
      /kosapo-api-gateway/.test(gateway[0]), 'network-gateway', id(policy),
    `API clients (the gateway namespaces) must reach the gRPC port ${spec.port} and nothing else; found ${gateway.join(', ')}`);
    for (const rule of policy.spec.egress || []) {
      r.expect((rule.to || []).length > 0 && (rule.ports || []).length > 0, 'network-exact',
        id(policy), 'an egress rule without destinations or ports allows everything');
      for (const peer of rule.to || []) {
        r.expect(!describePeer(peer).outside, 'network-exact', id(policy),
          `services call nothing outside the namespace; found ${describePeer(peer).outside}`);
      }
    }
  }
  // The database: from outside only its operator and Prometheus; out only
  // to the API server and object storage (HTTPS).
  const dbPolicy = ix.named('NetworkPolicy', DB_CLUSTER);
  if (r.expect(dbPolicy, 'network-policy-per-service', DB_CLUSTER, `no NetworkPolicy ${DB_CLUSTER}`)) {
    for (const rule of dbPolicy.spec.ingress || []) {
      r.expect((rule.from || []).length > 0 && (rule.ports || []).length > 0, 'network-exact',
        id(dbPolicy), 'an ingress rule without sources or ports admits everything');
      for (const peer of rule.from || []) {
        const d = describePeer(peer);
        if (!d.outside) continue;
        const ports = (rule.ports || []).map((p) => p.port).sort().join(',');
        r.expect((/cnpg-system/.test(d.outside) && /cloudnative-pg/.test(d.outside) && ports === '5432,8000') ||
          (/prometheus/.test(d.outside) && ports === '9187'), 'network-exact', id(dbPolicy),
        `admits ${d.outside} on ${ports}; only the operator (5432, 8000) and Prometheus (9187) come from outside`);
      }
    }
    for (const rule of dbPolicy.spec.egress || []) {
      r.expect((rule.to || []).length > 0 && (rule.ports || []).length > 0, 'network-exact',
        id(dbPolicy), 'an egress rule without destinations or ports allows everything');
      if ((rule.to || []).some((peer) => describePeer(peer).outside)) {
        r.expect((rule.ports || []).every((p) => p.port === 443 || p.port === 6443), 'network-exact',
          id(dbPolicy), 'may reach outside only on 443/6443 (Kubernetes API, object storage)');
      }
    }
  }

  // DNS for everyone, to the cluster DNS only.
  const dns = policies.find((p) => isEmptySelector(p.spec.podSelector) && (p.spec.egress || []).length);
  if (r.expect(dns, 'network-dns', 'NetworkPolicy', 'no policy lets pods resolve names')) {
    for (const rule of dns.spec.egress) {
      r.expect((rule.ports || []).length && rule.ports.every((p) => p.port === 53) &&
        (rule.to || []).every((peer) => peer.namespaceSelector && peer.podSelector),
      'network-dns', id(dns), 'may only open port 53 to the cluster DNS pods');
    }
    r.expect(!(dns.spec.policyTypes || []).includes('Ingress'), 'network-dns', id(dns),
      'must not open any ingress');
  }
}

function checkMonitoring(ix, r, readme, source) {
  const monitors = ix.all('ServiceMonitor');
  for (const service of Object.keys(SERVICES)) {
    const svc = ix.named('Service', app(service));
    if (!svc) continue;
    const monitor = monitors.find((m) => labelsMatch(m.spec.selector, svc.metadata.labels));
    if (!r.expect(monitor, 'prometheus-scrape', id(svc), 'no ServiceMonitor selects it')) continue;
    const names = (svc.spec.ports || []).map((p) => p.name);
    for (const endpoint of monitor.spec.endpoints || []) {
      r.expect(names.includes(endpoint.port), 'prometheus-scrape', id(monitor),
        `endpoint port ${endpoint.port} is not a port of ${id(svc)}`);
    }
  }

  // Metrics the code exports.
  const exported = new Set();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(cc|h)$/.test(entry.name)) {
        const text = fs.readFileSync(full, 'utf8');
        for (const m of text.matchAll(/Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\("([a-z_:][a-z0-9_:]*)"\)/g)) {
          exported.add(m[2]);
          if (m[1] === 'Histogram' || m[1] === 'Summary') {
            for (const suffix of ['_bucket', '_sum', '_count']) exported.add(m[2] + suffix);
          }
        }
        for (const m of text.matchAll(/Family\(\s*"([a-z_:][a-z0-9_:]*)"/g)) exported.add(m[1]);
        // Gauges read from the database at scrape time (Metrics::AddQueryGauge).
        for (const m of text.matchAll(/AddQueryGauge\([^{]*\{\s*"([a-z_:][a-z0-9_:]*)"/g)) exported.add(m[1]);
      }
    }
  };
  for (const dir of ['common', 'services']) {
    if (fs.existsSync(path.join(source, dir))) walk(path.join(source, dir));
  }
  r.expect(exported.has('grpc_server_handled_total'), 'alerts', 'metrics',
    'could not find the exported metric names in common/ (grpc_server_handled_total)');

  const anchors = new Set([...readme.matchAll(/^#+\s+(.*)$/gm)].map((m) => slug(m[1])));
  const alerts = new Map();
  for (const rule of ix.all('PrometheusRule')) {
    for (const group of rule.spec.groups || []) {
      for (const alert of group.rules || []) {
        if (!alert.alert) continue;
        alerts.set(alert.alert, alert);
        const where = `${id(rule)} ${alert.alert}`;
        const labels = alert.labels || {};
        const notes = alert.annotations || {};
        r.expect(['critical', 'warning'].includes(labels.severity), 'alerts', where,
          'needs severity critical or warning');
        r.expect(notes.summary && notes.description, 'alerts', where, 'needs summary and description');
        const anchor = (notes.runbook_url || '').split('#')[1];
        r.expect(anchor && anchors.has(anchor), 'alerts', where,
          `runbook_url must point at a heading of deploy/README.md (#${anchor} not found)`);
        const used = new Set([...String(alert.expr).matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)]
          .map((m) => m[1]));
        for (const metric of used) {
          if (exported.has(metric) || EXTERNAL_METRIC.test(metric)) continue;
          r.expect((notes.missing_metric || '').includes(metric), 'alerts-honest', where,
            `uses ${metric}, which the code does not export; say so in a missing_metric annotation`);
        }
        for (const m of (notes.missing_metric || '').matchAll(/\b(kosapo_[a-z0-9_]+)/g)) {
          if (exported.has(m[1])) {
            console.log(`note: ${where}: ${m[1]} is exported now; drop it from missing_metric`);
          }
        }
      }
    }
  }
  for (const name of REQUIRED_ALERTS) {
    r.expect(alerts.has(name), 'alerts', 'PrometheusRule', `alert ${name} is missing`);
  }
}

function checkDatabase(ix, r, services, isProd) {
  const cluster = ix.named('Cluster', DB_CLUSTER);
  if (!r.expect(cluster, 'database', 'Cluster', `no CloudNativePG Cluster ${DB_CLUSTER}`)) return;
  const spec = cluster.spec;
  r.expect(isProd ? spec.instances === 3 : spec.instances >= 1, 'database', id(cluster),
    `${spec.instances} instances; production needs 3 (primary and two replicas)`);
  r.expect(spec.enableSuperuserAccess === false, 'database', id(cluster),
    'superuser access must stay disabled');
  const initdb = (spec.bootstrap || {}).initdb || {};
  r.expect(initdb.database === 'kosapo', 'database', id(cluster), 'one database, kosapo');
  const sql = (initdb.postInitApplicationSQL || []).join('\n');
  const roles = new Map(((spec.managed || {}).roles || []).map((role) => [role.name, role]));
  let connections = 0;
  for (const [service, info] of Object.entries(services)) {
    const role = `kosapo_${service}`;
    const schema = SERVICES[service].schema;
    const managed = roles.get(role);
    r.expect(managed && managed.login === true && managed.superuser !== true &&
      managed.createrole !== true && managed.createdb !== true && managed.bypassrls !== true &&
      managed.replication !== true && managed.ensure !== 'absent', 'database', id(cluster),
    `managed role ${role} must exist as a plain login role`);
    r.expect(managed && managed.passwordSecret && managed.passwordSecret.name === `${app(service)}-db`,
      'database', id(cluster), `role ${role} must take its password from the Secret ${app(service)}-db (the service's)`);
    const owner = `${role}_owner`;
    const managedOwner = roles.get(owner);
    r.expect(managedOwner && managedOwner.login === true && managedOwner.superuser !== true &&
      managedOwner.createrole !== true && managedOwner.createdb !== true &&
      managedOwner.bypassrls !== true && managedOwner.replication !== true &&
      managedOwner.ensure !== 'absent', 'database', id(cluster),
    `managed role ${owner} must exist as a plain login role`);
    r.expect(managedOwner && managedOwner.passwordSecret &&
      managedOwner.passwordSecret.name === `${app(service)}-db-owner`, 'database', id(cluster),
    `role ${owner} must take its password from the Secret ${app(service)}-db-owner`);
    r.expect(!(managed && (managed.inRoles || []).length), 'database', id(cluster),
      `role ${role} must be a member of no role (a member of ${owner} could act as the owner)`);
    r.expect(new RegExp(`CREATE SCHEMA ${schema} AUTHORIZATION ${owner}\\b`).test(sql) &&
      new RegExp(`GRANT CONNECT, TEMPORARY ON DATABASE kosapo TO ${role}\\b`).test(sql) &&
      new RegExp(`GRANT CONNECT ON DATABASE kosapo TO ${owner}\\b`).test(sql),
    'database', id(cluster), `bootstrap must create schema ${schema} owned by ${owner}, ` +
      `grant ${role} CONNECT, TEMPORARY and ${owner} CONNECT`);
    if (info && info.hpa) {
      connections += info.hpa.spec.maxReplicas * Number(info.data.KOSAPO_DB_POOL_SIZE ||
        ((info.options && info.options.env.get('KOSAPO_DB_POOL_SIZE')) || {}).default || 8);
    }
  }
  r.expect(/REVOKE CONNECT, TEMPORARY ON DATABASE kosapo FROM PUBLIC/.test(sql), 'database',
    id(cluster), 'bootstrap must revoke CONNECT, TEMPORARY from PUBLIC');
  const maxConnections = Number(((spec.postgresql || {}).parameters || {}).max_connections || 100);
  r.expect(connections + DB_CONNECTION_HEADROOM <= maxConnections, 'database-connections',
    id(cluster), `services may open ${connections} connections at their autoscalers' maximum ` +
    `(+${DB_CONNECTION_HEADROOM} headroom), above max_connections ${maxConnections}`);
  if (isProd) {
    const store = (spec.backup || {}).barmanObjectStore;
    if (r.expect(store, 'database-backup', id(cluster), 'production needs backups to object storage')) {
      const creds = store.s3Credentials || {};
      r.expect(creds.inheritFromIAMRole || (creds.accessKeyId && creds.accessKeyId.name &&
        creds.secretAccessKey && creds.secretAccessKey.name), 'database-backup', id(cluster),
      'object-store credentials must come from a Secret');
      r.expect(spec.backup.retentionPolicy, 'database-backup', id(cluster), 'needs a retention policy');
    }
    const scheduled = ix.all('ScheduledBackup').filter((b) => b.spec.cluster.name === DB_CLUSTER);
    r.expect(scheduled.length >= 1, 'database-backup', 'ScheduledBackup',
      `no ScheduledBackup of ${DB_CLUSTER}`);
  }
}

// Production: cert-manager issues each service's TLS Secret, naming the
// service's SPIFFE identity, for server and client use, from an Issuer of
// the overlay (or a ClusterIssuer), and renews it before it expires.
function checkCertificates(ix, r) {
  for (const service of Object.keys(SERVICES)) {
    const name = app(service);
    const certificate = ix.all('Certificate').find((c) => c.spec.secretName === `${name}-tls`);
    if (!r.expect(certificate, 'certificates', name,
      `no cert-manager Certificate issues the Secret ${name}-tls`)) continue;
    const spec = certificate.spec;
    r.expect((spec.uris || []).length === 1 && spec.uris[0] === `spiffe://kosapo/service/${service}`,
      'certificates', id(certificate), `must name exactly spiffe://kosapo/service/${service} (its identity)`);
    const usages = spec.usages || [];
    r.expect(usages.includes('server auth') && usages.includes('client auth'), 'certificates',
      id(certificate), 'usages must include server auth and client auth (it serves and calls peers)');
    r.expect((spec.dnsNames || []).includes(name), 'certificates', id(certificate),
      `dnsNames must include ${name}, the Service clients dial`);
    const issuer = spec.issuerRef || {};
    r.expect(issuer.kind === 'ClusterIssuer' || ix.named('Issuer', issuer.name), 'certificates',
      id(certificate), `its Issuer ${issuer.name} is not in the overlay`);
    const duration = parseDuration(spec.duration || '2160h');
    const renewBefore = parseDuration(spec.renewBefore || '720h');
    r.expect(renewBefore > 0 && renewBefore < duration, 'certificates', id(certificate),
      'renewBefore must leave time to renew before it expires');
  }
}

// Runs every rule on one rendered overlay.
function checkOverlay(scope, objects, ctx) {
  const r = new Report(scope);
  const ix = index(objects);
  const namespaces = ix.all('Namespace');
  let namespace = null;
  if (r.expect(namespaces.length === 1, 'namespace', 'Namespace', 'each overlay creates its namespace')) {
    namespace = namespaces[0].metadata.name;
    const labels = namespaces[0].metadata.labels || {};
    r.expect(labels['pod-security.kubernetes.io/enforce'] === 'restricted', 'namespace',
      id(namespaces[0]), 'must enforce the restricted Pod Security Standard');
  }
  checkSecretsByReference(objects, r, ctx.readme);
  const services = {};
  const workloads = new Map();
  for (const service of Object.keys(SERVICES)) {
    services[service] = checkService(service, objects, ix, r, ctx.options[service], namespace);
    const deployment = ix.named('Deployment', app(service));
    if (deployment) workloads.set(app(service), deployment.spec.template.metadata.labels || {});
  }
  // CloudNativePG labels every instance pod with cnpg.io/cluster.
  workloads.set(DB_CLUSTER, { 'cnpg.io/cluster': DB_CLUSTER });
  checkNetwork(ix, r, workloads);
  if (/prod/.test(scope)) checkCertificates(ix, r);
  checkMonitoring(ix, r, ctx.readme, ctx.source);
  checkDatabase(ix, r, services, /prod/.test(scope));
  return { r, services };
}

// ---------------------------------------------------------------------------
// Breakages the checks must catch (run on a copy of the production render).

const MUTATIONS = [
  ['tls', 'the case TLS Secret not mounted', (o) => {
    const pod = find(o, 'Deployment', 'kosapo-case').spec.template.spec;
    pod.containers[0].volumeMounts = pod.containers[0].volumeMounts.filter((m) => m.name !== 'tls');
  }],
  ['tls', 'referral in plaintext', (o) => {
    find(o, 'ConfigMap', /^kosapo-referral-/).data.KOSAPO_INSECURE_PLAINTEXT = 'true';
  }],
  ['tls', 'reporting presenting screening\'s certificate', (o) => {
    find(o, 'Deployment', 'kosapo-reporting').spec.template.spec.volumes
      .find((v) => v.name === 'tls').secret.secretName = 'kosapo-screening-tls';
  }],
  ['field-keys', 'the referral field keys not mounted', (o) => {
    const pod = find(o, 'Deployment', 'kosapo-referral').spec.template.spec;
    pod.containers[0].volumeMounts =
      pod.containers[0].volumeMounts.filter((m) => m.name !== 'field-keys');
  }],
  ['field-keys', 'case reading referral\'s field keys', (o) => {
    find(o, 'Deployment', 'kosapo-case').spec.template.spec.volumes
      .find((v) => v.name === 'field-keys').secret.secretName = 'kosapo-referral-field-keys';
  }],
  ['field-keys', 'case storing free text in plaintext', (o) => {
    find(o, 'ConfigMap', /^kosapo-case-/).data.KOSAPO_INSECURE_PLAINTEXT_FIELDS = 'true';
  }],
  ['probes', 'probe on the mutual-TLS port', (o) => {
    find(o, 'Deployment', 'kosapo-case').spec.template.spec.containers[0].livenessProbe.grpc.port = 50052;
  }],
  ['certificates', 'a certificate without its identity', (o) => {
    find(o, 'Certificate', 'kosapo-referral-tls').spec.uris = ['spiffe://kosapo/service/case'];
  }],
  ['network-exact', 'the gRPC port open to any source', (o) => {
    find(o, 'NetworkPolicy', 'kosapo-case').spec.ingress.push({ ports: [{ port: 50052, protocol: TCP() }] });
  }],
  ['probes', 'drop the case readiness probe', (o) => {
    delete find(o, 'Deployment', 'kosapo-case').spec.template.spec.containers[0].readinessProbe;
  }],
  ['probes', 'liveness on the readiness name', (o) => {
    find(o, 'Deployment', 'kosapo-screening').spec.template.spec.containers[0].livenessProbe.grpc.service =
      SERVICES.screening.grpc;
  }],
  ['resources', 'no memory limit', (o) => {
    delete find(o, 'Deployment', 'kosapo-referral').spec.template.spec.containers[0].resources.limits.memory;
  }],
  ['security-context', 'writable root filesystem', (o) => {
    find(o, 'Deployment', 'kosapo-reporting').spec.template.spec.containers[0].securityContext
      .readOnlyRootFilesystem = false;
  }],
  ['security-context', 'capabilities not dropped', (o) => {
    find(o, 'Deployment', 'kosapo-case').spec.template.spec.containers[0].securityContext.capabilities = {};
  }],
  ['per-service-objects', 'no PodDisruptionBudget', (o) => {
    o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'kosapo-referral')), 1);
  }],
  ['network-policy-per-service', 'no NetworkPolicy', (o) => {
    o.splice(o.indexOf(find(o, 'NetworkPolicy', 'kosapo-screening')), 1);
  }],
  ['network-matrix', 'screening may call case', (o) => {
    find(o, 'NetworkPolicy', 'kosapo-screening').spec.egress.push({
      to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kosapo-case' } } }],
      ports: [{ port: 50052, protocol: TCP() }],
    });
    find(o, 'NetworkPolicy', 'kosapo-case').spec.ingress[1].from.push(
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kosapo-screening' } } });
  }],
  ['network-exact', 'the database open to the gateway', (o) => {
    find(o, 'NetworkPolicy', DB_CLUSTER).spec.ingress.push({
      from: [{ namespaceSelector: { matchLabels: { 'kosapo-api-gateway': 'true' } } }],
      ports: [{ port: 5432, protocol: TCP() }],
    });
  }],
  ['network-default-deny', 'no default deny', (o) => {
    o.splice(o.indexOf(find(o, 'NetworkPolicy', 'kosapo-default-deny')), 1);
  }],
  ['termination-grace', 'grace period below the drain', (o) => {
    find(o, 'Deployment', 'kosapo-case').spec.template.spec.terminationGracePeriodSeconds = 20;
  }],
  ['secrets-by-reference', 'database URL inline', (o) => {
    find(o, 'Deployment', 'kosapo-case').spec.template.spec.containers[0].env[0] =
      { name: 'KOSAPO_DB_URL', value: 'postgresql://kosapo_case:pw@db/kosapo' };
  }],
  ['secrets-by-reference', 'a Secret in the manifests', (o) => {
    o.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kosapo-case-db', namespace: 'kosapo' },
      stringData: { url: 'x' } });
  }],
  ['config', 'an option the binary does not have', (o) => {
    find(o, 'ConfigMap', /^kosapo-case-/).data.KOSAPO_URGENT_ACK_WITHN = '2h';
  }],
  ['headless-service', 'a virtual IP', (o) => {
    find(o, 'Service', 'kosapo-referral').spec.clusterIP = '10.0.0.10';
  }],
  ['migrations', 'the case service container holding the owner\'s password', (o) => {
    find(o, 'Deployment', 'kosapo-case').spec.template.spec.containers[0].env.push({
      name: 'KOSAPO_DB_MIGRATION_URL',
      valueFrom: { secretKeyRef: { name: 'kosapo-case-db-owner', key: 'url' } },
    });
  }],
  ['migrations', 'referral without its migration init container', (o) => {
    delete find(o, 'Deployment', 'kosapo-referral').spec.template.spec.initContainers;
  }],
  ['migrations', 'an init container looser than the service container', (o) => {
    delete find(o, 'Deployment', 'kosapo-reporting').spec.template.spec.initContainers[0]
      .securityContext.seccompProfile;
  }],
  ['migrations', 'screening serving without checking its migrations', (o) => {
    const main = find(o, 'Deployment', 'kosapo-screening').spec.template.spec.containers[0];
    main.env = main.env.filter((e) => e.name !== 'KOSAPO_MIGRATIONS');
  }],
  ['database', 'an owner role with the runtime role\'s password', (o) => {
    find(o, 'Cluster', DB_CLUSTER).spec.managed.roles
      .find((role) => role.name === 'kosapo_case_owner').passwordSecret.name = 'kosapo-case-db';
  }],
  ['database', 'two instances in production', (o) => {
    find(o, 'Cluster', DB_CLUSTER).spec.instances = 2;
  }],
  ['alerts-honest', 'a metric nobody exports', (o) => {
    const rules = find(o, 'PrometheusRule', 'kosapo').spec.groups[0].rules;
    rules[0].expr = 'kosapo_made_up_total{job="kosapo-case"} > 0';
  }],
  ['database-connections', 'autoscaler beyond the database', (o) => {
    find(o, 'HorizontalPodAutoscaler', 'kosapo-case').spec.maxReplicas = 40;
  }],
];
function TCP() { return 'TCP'; }
function find(objects, kind, name) {
  const found = objects.find((o) => o.kind === kind &&
    (name instanceof RegExp ? name.test(o.metadata.name) : o.metadata.name === name));
  if (!found) throw new Error(`mutation target ${kind} ${name} not found`);
  return found;
}

// ---------------------------------------------------------------------------

function main() {
  const args = parseArgs(process.argv.slice(2));
  const deployDir = path.join(args.source, 'deploy');
  const failures = [];
  let passed = 0;
  let failedSteps = 0;
  const step = (name, list) => {
    if (list.length) {
      failedSteps++;
      for (const f of list) failures.push(`${name}: ${f}`);
      console.log(`FAIL ${name} (${list.length})`);
    } else {
      passed++;
      console.log(`ok   ${name}`);
    }
  };

  const kubectl = findKubectl(args.kubectl);
  if (!kubectl) {
    console.error('check.js: kubectl not found (PATH or --kubectl/KUBECTL). It renders the ' +
      'overlays offline (`kubectl kustomize`); install kubectl (1.27 or newer) and run again.');
    process.exit(1);
  }
  const readmePath = path.join(deployDir, 'README.md');
  const readme = fs.existsSync(readmePath) ? fs.readFileSync(readmePath, 'utf8') : '';

  const options = {};
  const optionErrors = [];
  for (const service of Object.keys(SERVICES)) {
    const result = binaryOptions(args.build, service);
    if (result.error) optionErrors.push(result.error);
    else options[service] = result;
  }
  step('binaries list their options (--help)', optionErrors);

  const overlaysDir = path.join(deployDir, 'overlays');
  const targets = [['base', path.join(deployDir, 'base')]].concat(
    fs.readdirSync(overlaysDir).sort().map((o) => [`overlays/${o}`, path.join(overlaysDir, o)]));
  const rendered = {};
  for (const [name, dir] of targets) {
    const run = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 60000 });
    if (run.status !== 0) {
      step(`render ${name}`, [`kubectl kustomize ${dir} failed: ${(run.stderr || String(run.error)).trim()}`]);
      continue;
    }
    let objects;
    try {
      objects = yaml.loadAll(run.stdout).filter(Boolean);
    } catch (error) {
      step(`render ${name}`, [`output is not YAML: ${error.message}`]);
      continue;
    }
    rendered[name] = objects;
    step(`render ${name} (${objects.length} objects)`, []);
    const schemaErrors = [];
    for (const object of objects) {
      for (const error of validateSchema(object)) {
        schemaErrors.push(`${id(object)}: ${error}`);
      }
    }
    step(`schema ${name}`, schemaErrors);
  }

  const ctx = { readme, options, source: args.source };
  const overlays = Object.keys(rendered).filter((n) => n.startsWith('overlays/'));
  if (!overlays.includes('overlays/dev') || !overlays.includes('overlays/prod')) {
    step('overlays dev and prod render', ['both overlays/dev and overlays/prod must render']);
  }
  for (const name of overlays) {
    const { r, services } = checkOverlay(name, rendered[name], ctx);
    step(`rules ${name}`, r.failures.map((f) => `[${f.rule}] ${f.where}: ${f.message}`));
    // Every ConfigMap must start the binary it configures.
    const startErrors = [];
    for (const [service, info] of Object.entries(services)) {
      if (!info || !options[service]) continue;
      const error = startWithConfig(options[service].binary, info.data, args.source);
      if (error) startErrors.push(`kosapo-${service} with ${id(info.configMap)}: ${error}`);
    }
    step(`configuration starts the binaries ${name}`, startErrors);
  }

  // The checks must catch each breakage.
  if (rendered['overlays/prod']) {
    const baseline = JSON.stringify(rendered['overlays/prod']);
    const count = (report, rule) => report.failures.filter((f) => f.rule === rule).length;
    const before = checkOverlay('overlays/prod', JSON.parse(baseline), ctx).r;
    const missed = [];
    for (const [rule, what, mutate] of MUTATIONS) {
      const objects = JSON.parse(baseline);
      mutate(objects);
      const schema = objects.flatMap((o) => validateSchema(o));
      const { r } = checkOverlay('overlays/prod', objects, ctx);
      if (count(r, rule) <= count(before, rule) && !schema.length) {
        missed.push(`breaking "${what}" went unnoticed (expected a [${rule}] failure)`);
      }
    }
    step(`rule checks catch ${MUTATIONS.length} breakages`, missed);
  }

  console.log('');
  for (const failure of failures) console.log(`  ${failure}`);
  console.log(`deploy checks: ${passed} passed, ${failedSteps} failed`);
  process.exit(failures.length ? 1 : 0);
}

main();
