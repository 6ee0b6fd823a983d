// Validates Kubernetes manifests and kustomizations against the Kubernetes, Prometheus Operator and Cilium schemas:
// types and required fields (kubernetes-models), unknown or misspelled fields (the API field lists of
// @kubernetes/client-node's models), and kustomization references to files that do not exist.
// Usage: node validate.mjs PATH...   (a YAML file, or a directory holding a kustomization.yaml)
// Exit 0 when everything is valid, 1 when a fault was found (each printed with file, document and field).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const faults = [];
const fault = (where, message) => faults.push(`${where}: ${message}`);

// API versions the API server no longer serves (removed in the Kubernetes version named).
const REMOVED = {
  'extensions/v1beta1': '1.16/1.22', 'apps/v1beta1': '1.16', 'apps/v1beta2': '1.16', 'batch/v1beta1': '1.25',
  'networking.k8s.io/v1beta1': '1.22', 'rbac.authorization.k8s.io/v1beta1': '1.22', 'apiextensions.k8s.io/v1beta1': '1.22',
  'admissionregistration.k8s.io/v1beta1': '1.22', 'policy/v1beta1': '1.25', 'autoscaling/v2beta1': '1.25',
  'autoscaling/v2beta2': '1.26', 'storage.k8s.io/v1beta1': '1.22', 'scheduling.k8s.io/v1beta1': '1.22',
};

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion', 'kind', 'metadata', 'resources', 'components', 'patches', 'patchesStrategicMerge', 'patchesJson6902',
  'configMapGenerator', 'secretGenerator', 'generatorOptions', 'namespace', 'namePrefix', 'nameSuffix', 'commonLabels',
  'commonAnnotations', 'labels', 'images', 'replicas', 'vars', 'replacements', 'crds', 'openapi', 'helmCharts',
  'helmGlobals', 'buildMetadata', 'sortOptions', 'transformers', 'generators', 'validators', 'configurations',
]);

// Field names of the Prometheus Operator CRDs we ship, for the unknown-field check (kubernetes-models checks types only).
const CRD_FIELDS = {
  'ServiceMonitor.spec': ['jobLabel', 'targetLabels', 'podTargetLabels', 'endpoints', 'selector', 'selectorMechanism', 'namespaceSelector',
    'sampleLimit', 'scrapeProtocols', 'fallbackScrapeProtocol', 'targetLimit', 'labelLimit', 'labelNameLengthLimit',
    'labelValueLengthLimit', 'scrapeClassicHistograms', 'nativeHistogramBucketLimit', 'nativeHistogramMinBucketFactor',
    'convertClassicHistogramsToNHCB', 'keepDroppedTargets', 'attachMetadata', 'scrapeClass', 'bodySizeLimit', 'serviceDiscoveryRole'],
  'ServiceMonitor.endpoint': ['port', 'targetPort', 'path', 'scheme', 'params', 'interval', 'scrapeTimeout', 'tlsConfig',
    'bearerTokenFile', 'bearerTokenSecret', 'authorization', 'honorLabels', 'honorTimestamps', 'trackTimestampsStaleness',
    'basicAuth', 'oauth2', 'metricRelabelings', 'relabelings', 'proxyUrl', 'noProxy', 'proxyFromEnvironment',
    'proxyConnectHeader', 'followRedirects', 'enableHttp2', 'filterRunning'],
  'PrometheusRule.spec': ['groups'],
  'PrometheusRule.group': ['name', 'labels', 'interval', 'query_offset', 'limit', 'partial_response_strategy', 'rules'],
  'PrometheusRule.rule': ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'],
  // Cilium's Local Redirect Policy (cilium.io/v2, the CRD schema of @kubernetes-models/cilium).
  'CiliumLocalRedirectPolicy.spec': ['description', 'redirectFrontend', 'redirectBackend', 'skipRedirectFromBackend'],
  'CiliumLocalRedirectPolicy.frontend': ['addressMatcher', 'serviceMatcher'],
  'CiliumLocalRedirectPolicy.serviceMatcher': ['serviceName', 'namespace', 'toPorts'],
  'CiliumLocalRedirectPolicy.addressMatcher': ['ip', 'toPorts'],
  'CiliumLocalRedirectPolicy.backend': ['localEndpointSelector', 'toPorts'],
  'CiliumLocalRedirectPolicy.port': ['port', 'protocol', 'name'],
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKnown(object, allowed, where) {
  if (!object || typeof object !== 'object') return;
  for (const key of Object.keys(object)) if (!allowed.includes(key)) fault(where, `unknown field '${key}'`);
}

// Rules the API server enforces beyond the schema.
function checkSemantics(doc, where) {
  const name = doc.metadata?.name;
  const rbac = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(doc.kind); // path-segment names: ':' allowed
  if (typeof name === 'string' && rbac && (name === '.' || name === '..' || /[/%]/.test(name))) {
    fault(where, `metadata.name '${name}' is not a valid name`);
  } else if (typeof name === 'string' && !rbac && (name.length > 253 || !DNS_SUBDOMAIN.test(name))) {
    fault(where, `metadata.name '${name}' is not a valid name (lower-case letters, digits, '-' and '.')`);
  }
  const template = doc.spec?.template;
  if (['DaemonSet', 'Deployment', 'StatefulSet', 'ReplicaSet'].includes(doc.kind) && template) {
    const labels = template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(doc.spec?.selector?.matchLabels ?? {})) {
      if (labels[key] !== value) fault(where, `spec.selector.matchLabels ${key}=${value} does not match the template's labels`);
    }
    const volumes = new Set([...(template.spec?.volumes ?? []), ...(doc.spec?.volumeClaimTemplates ?? []).map((c) => c.metadata ?? {})].map((v) => v.name));
    for (const container of [...(template.spec?.containers ?? []), ...(template.spec?.initContainers ?? [])]) {
      for (const mount of container.volumeMounts ?? []) {
        if (!volumes.has(mount.name)) fault(where, `container ${container.name} mounts volume '${mount.name}', which is not in spec.template.spec.volumes`);
      }
    }
  }
  if (doc.kind === 'ServiceMonitor') {
    checkKnown(doc.spec, CRD_FIELDS['ServiceMonitor.spec'], `${where}.spec`);
    for (const [i, endpoint] of (doc.spec?.endpoints ?? []).entries()) checkKnown(endpoint, CRD_FIELDS['ServiceMonitor.endpoint'], `${where}.spec.endpoints[${i}]`);
  }
  if (doc.kind === 'CiliumLocalRedirectPolicy') {
    const spec = doc.spec ?? {};
    checkKnown(spec, CRD_FIELDS['CiliumLocalRedirectPolicy.spec'], `${where}.spec`);
    checkKnown(spec.redirectFrontend, CRD_FIELDS['CiliumLocalRedirectPolicy.frontend'], `${where}.spec.redirectFrontend`);
    checkKnown(spec.redirectBackend, CRD_FIELDS['CiliumLocalRedirectPolicy.backend'], `${where}.spec.redirectBackend`);
    for (const matcher of ['serviceMatcher', 'addressMatcher']) {
      const value = spec.redirectFrontend?.[matcher];
      checkKnown(value, CRD_FIELDS[`CiliumLocalRedirectPolicy.${matcher}`], `${where}.spec.redirectFrontend.${matcher}`);
      for (const [i, port] of (value?.toPorts ?? []).entries()) checkKnown(port, CRD_FIELDS['CiliumLocalRedirectPolicy.port'], `${where}.spec.redirectFrontend.${matcher}.toPorts[${i}]`);
    }
    for (const [i, port] of (spec.redirectBackend?.toPorts ?? []).entries()) checkKnown(port, CRD_FIELDS['CiliumLocalRedirectPolicy.port'], `${where}.spec.redirectBackend.toPorts[${i}]`);
  }
  if (doc.kind === 'PrometheusRule') {
    checkKnown(doc.spec, CRD_FIELDS['PrometheusRule.spec'], `${where}.spec`);
    for (const [i, group] of (doc.spec?.groups ?? []).entries()) {
      checkKnown(group, CRD_FIELDS['PrometheusRule.group'], `${where}.spec.groups[${i}]`);
      for (const [j, rule] of (group.rules ?? []).entries()) checkKnown(rule, CRD_FIELDS['PrometheusRule.rule'], `${where}.spec.groups[${i}].rules[${j}]`);
    }
  }
}

const PRIMITIVES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString', 'RuntimeRawExtension']);

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const crdPackages = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator', 'cilium.io': '@kubernetes-models/cilium' };
  const candidates = crdPackages[group]
    ? [`${crdPackages[group]}/${group}/${version}`]
    : [`kubernetes-models/${group ? `${group}/` : ''}${version}`];
  for (const specifier of candidates) {
    try {
      const module = await import(specifier);
      if (module[kind]) return module[kind];
    } catch { /* not a known apiVersion/kind */ }
  }
  return null;
}

async function apiType(name) {
  try {
    const module = await import(`@kubernetes/client-node/dist/gen/models/${name}.js`);
    return module[name] ?? null;
  } catch {
    return null;
  }
}

// Strategic merge patch directives ($patch: delete, $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...).
const PATCH_DIRECTIVE = /^\$(patch|retainKeys|setElementOrder\/.+|deleteFromPrimitiveList\/.+)$/;

async function checkFields(data, typeName, where, inPatch = false) {
  if (data === null || data === undefined || PRIMITIVES.has(typeName)) return;
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (Array.isArray(data)) for (const [i, item] of data.entries()) await checkFields(item, array[1], `${where}[${i}]`, inPatch);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (typeof data === 'object') for (const [key, value] of Object.entries(data)) await checkFields(value, map[1], `${where}.${key}`, inPatch);
    return;
  }
  const type = await apiType(typeName);
  if (!type || typeof data !== 'object' || Array.isArray(data)) return;
  const attributes = type.getAttributeTypeMap();
  for (const [key, value] of Object.entries(data)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (inPatch && PATCH_DIRECTIVE.test(key)) {
      if (key === '$patch' && !['delete', 'replace', 'merge'].includes(value)) fault(where, `unknown $patch '${value}'`);
    } else if (!attribute) {
      fault(where, `unknown field '${key}'`);
    } else if (!(typeName === 'V1JSONSchemaProps')) {
      await checkFields(value, attribute.type, `${where}.${key}`, inPatch);
    }
  }
}

function versionPrefix(apiVersion) {
  const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
  return version.charAt(0).toUpperCase() + version.slice(1);
}

async function validateDocument(doc, where) {
  if (doc === null || typeof doc !== 'object') return;
  if (!doc.apiVersion || !doc.kind) {
    fault(where, 'missing apiVersion or kind');
    return;
  }
  const name = `${doc.kind} ${doc.metadata?.name ?? '(no name)'}`;
  if (doc.apiVersion.startsWith('kustomize.config.k8s.io/')) {
    checkKnown(doc, [...KUSTOMIZATION_FIELDS], `${where} ${doc.kind}`);
    return;
  }
  if (REMOVED[doc.apiVersion]) {
    fault(`${where} ${name}`, `apiVersion '${doc.apiVersion}' was removed from Kubernetes (${REMOVED[doc.apiVersion]}); use the current version`);
    return;
  }
  checkSemantics(doc, `${where} ${name}`);
  const Model = await modelFor(doc.apiVersion, doc.kind);
  if (!Model) {
    fault(`${where} ${name}`, `unknown apiVersion/kind '${doc.apiVersion}/${doc.kind}'`);
    return;
  }
  try {
    new Model(doc).validate();
  } catch (error) {
    for (const line of String(error.message).split(', ')) fault(`${where} ${name}`, line.replace(/^data\//, ''));
  }
  await checkFields(doc, `${versionPrefix(doc.apiVersion)}${doc.kind}`, `${where} ${name}`);
}

async function validateFile(file) {
  let documents;
  try {
    documents = YAML.parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' }); // kubectl reads YAML 1.1
  } catch (error) {
    fault(file, `cannot read: ${error.message}`);
    return;
  }
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0) {
      fault(`${file}#${index + 1}`, `YAML error: ${document.errors[0].message.split('\n')[0]}`);
      continue;
    }
    await validateDocument(document.toJS(), `${file}#${index + 1}`);
  }
}

async function validateKustomization(dir) {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find(existsSync);
  if (!file) {
    fault(dir, 'no kustomization.yaml');
    return;
  }
  const kustomization = YAML.parse(readFileSync(file, 'utf8'), { version: '1.1' }) ?? {};
  checkKnown(kustomization, [...KUSTOMIZATION_FIELDS], file);
  const referenced = [
    ...(kustomization.resources ?? []).map((r) => ['resources', r]),
    ...(kustomization.components ?? []).map((r) => ['components', r]),
    ...(kustomization.patchesStrategicMerge ?? []).map((r) => ['patchesStrategicMerge', r]),
    ...(kustomization.patches ?? []).filter((p) => p.path).map((p) => [p.target ? 'json6902' : 'patches', p.path]),
    ...(kustomization.configMapGenerator ?? []).flatMap((g) => (g.files ?? []).map((f) => ['configMapGenerator', f.split('=').pop()])),
  ];
  for (const [field, reference] of referenced) {
    if (/^(https?:|github\.com|git@)/.test(reference)) continue;
    const target = path.join(dir, reference);
    if (!existsSync(target)) {
      fault(file, `${field} names '${reference}', which does not exist`);
    } else if (statSync(target).isDirectory()) {
      await validateKustomization(target);
    } else if (field === 'resources' || field === 'components') {
      await validateFile(target);
    } else if (field === 'json6902') {
      validateJson6902(target);
    } else if (field !== 'configMapGenerator') {
      await validatePatch(target);
    }
  }
}

// A patch with a target may be a JSON 6902 list of operations (RFC 6902) rather than a strategic merge patch.
function validateJson6902(file) {
  const operations = YAML.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(operations)) {
    return validatePatch(file);
  }
  for (const [i, operation] of operations.entries()) {
    const where = `${file} operation ${i + 1}`;
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(operation?.op)) fault(where, `unknown op '${operation?.op}'`);
    if (typeof operation?.path !== 'string' || !operation.path.startsWith('/')) fault(where, "'path' must be a JSON pointer starting with '/'");
    if (['add', 'replace', 'test'].includes(operation?.op) && !('value' in operation)) fault(where, `op '${operation.op}' needs a 'value'`);
    if (['move', 'copy'].includes(operation?.op) && typeof operation.from !== 'string') fault(where, `op '${operation.op}' needs a 'from'`);
  }
  return undefined;
}

async function validatePatch(file) {
  for (const document of YAML.parseAllDocuments(readFileSync(file, 'utf8'))) {
    const patch = document.toJS();
    if (!patch?.apiVersion || !patch?.kind || !patch?.metadata?.name) fault(file, 'a patch needs apiVersion, kind and metadata.name');
    else await checkFields(patch, `${versionPrefix(patch.apiVersion)}${patch.kind}`, `${file} patch of ${patch.kind} ${patch.metadata.name}`, true);
  }
}

const inputs = process.argv.slice(2);
if (inputs.length === 0) {
  console.error('usage: node validate.mjs PATH...');
  process.exit(2);
}
for (const input of inputs) {
  if (!existsSync(input)) fault(input, 'does not exist');
  else if (statSync(input).isDirectory()) await validateKustomization(input);
  else await validateFile(input);
}
for (const line of faults) console.log(line);
console.log(faults.length === 0 ? `valid: ${inputs.join(' ')}` : `${faults.length} fault(s)`);
process.exit(faults.length === 0 ? 0 : 1);
