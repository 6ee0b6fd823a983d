// The values table of a Helm chart's README, generated from the "# -- description" comments of its values.yaml.
// Usage: node helm-values-table.mjs --check CHART_DIR   exit 1 when a key has no description or README.md's table
//        node helm-values-table.mjs --write CHART_DIR   differs from the generated one; --write replaces the table.
// The table sits between "<!-- values: generated from values.yaml -->" and "<!-- values: end -->" in README.md.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const BEGIN = '<!-- values: generated from values.yaml -->';
const END = '<!-- values: end -->';

// The comment above a key; above the first key of a nested map, the parser gives it to the map itself.
function description(pair, map) {
  const comment = pair.key?.commentBefore ?? (map.items[0] === pair ? map.commentBefore : null) ?? '';
  const at = comment.indexOf('-- ');
  return at < 0 ? null : comment.slice(at + 3).replace(/\s*\n\s*/g, ' ').trim();
}

function hasDescribedChild(node) {
  return YAML.isMap(node) && node.items.some((pair) => description(pair, node) !== null || hasDescribedChild(pair.value));
}

function rows(map, prefix, faults) {
  const result = [];
  for (const pair of map.items) {
    const key = `${prefix}${pair.key.value}`;
    if (hasDescribedChild(pair.value)) {
      result.push(...rows(pair.value, `${key}.`, faults));
      continue;
    }
    const text = description(pair, map);
    if (text === null) {
      faults.push(`values.yaml: ${key} has no "# --" description`);
      continue;
    }
    const value = JSON.stringify(pair.value?.toJSON?.() ?? pair.value ?? null);
    result.push(`| \`${key}\` | \`${value.replaceAll('|', '\\|')}\` | ${text.replaceAll('|', '\\|')} |`);
  }
  return result;
}

const [mode, chart] = process.argv.slice(2);
if (!['--check', '--write'].includes(mode) || !chart) {
  console.error('usage: node helm-values-table.mjs --check|--write CHART_DIR');
  process.exit(2);
}
const faults = [];
const document = YAML.parseDocument(readFileSync(path.join(chart, 'values.yaml'), 'utf8'));
const table = ['| key | default | description |', '|---|---|---|', ...rows(document.contents, '', faults)].join('\n');
const readmePath = path.join(chart, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const begin = readme.indexOf(BEGIN);
const end = readme.indexOf(END);
if (begin < 0 || end < begin) {
  faults.push(`README.md: no table between "${BEGIN}" and "${END}"`);
} else {
  const expected = `${readme.slice(0, begin + BEGIN.length)}\n${table}\n${readme.slice(end)}`;
  if (mode === '--write') writeFileSync(readmePath, expected);
  else if (expected !== readme) faults.push('README.md: the values table differs from values.yaml; run node deploy/validate/helm-values-table.mjs --write ' + chart);
}
for (const fault of faults) console.log(fault);
process.exit(faults.length === 0 ? 0 : 1);
