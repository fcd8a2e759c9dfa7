// The service definition schema, checked by an independent implementation
// (Ajv, JSON Schema 2020-12, strict mode): the schema itself is valid, the
// seeded services conform, and where a definition is broken, Ajv and the
// server's own validator (through `dzong services import`) name the same
// places.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';

const root = path.resolve(import.meta.dirname, '../..');
const schema = JSON.parse(readFileSync(path.join(root, 'docs/schemas/service-definition.schema.json'), 'utf8'));
const seedDir = path.join(root, 'src/modules/services/seed');
const dzong = path.resolve(root, process.env.DZONG_BIN ?? 'build/release/src/dzong');

function validator() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  return ajv.compile(schema);
}

// Ajv's "/form/pages/0/fields/1" and missing or extra members, as the
// server names them: "form.pages[0].fields[1]".
function place(error) {
  let p = error.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.').replace(/^\./, '');
  const member = error.params?.missingProperty ?? error.params?.additionalProperty;
  if (member) p = p ? `${p}.${member}` : member;
  return p;
}

test('the schema is valid JSON Schema 2020-12 and every seeded service conforms to it', () => {
  const validate = validator();
  const files = readdirSync(seedDir).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 5);
  for (const file of files) {
    const definition = JSON.parse(readFileSync(path.join(seedDir, file), 'utf8'));
    assert.ok(validate(definition), `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

test('Ajv and the server refuse a broken definition at the same places', () => {
  const definition = JSON.parse(readFileSync(path.join(seedDir, 'census-transfer.json'), 'utf8'));
  delete definition.summary;
  definition.category = 'astrology';
  definition.sla_working_days = 0;
  definition.colour = 'red';
  definition.form.pages[0].fields[0].type = 'slider';
  definition.workflow.states[0].title = { dz: 'ཐོ།' };

  const validate = validator();
  assert.equal(validate(definition), false);
  const ajvPlaces = new Set(validate.errors.map(place));

  const dir = mkdtempSync(path.join(tmpdir(), 'dzong-schema-'));
  try {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify(definition));
    const env = { ...process.env, DZONG_DATA_DIR: dir, DZONG_DATABASE_URL: `sqlite://${dir}/dzong.db` };
    execFileSync(dzong, ['seed'], { env, stdio: 'ignore' });
    const run = spawnSync(dzong, ['services', 'import', file], { env, encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    const serverPlaces = new Set(
      run.stderr
        .split('\n')
        .map((line) => line.match(/^ {2}(\S+) \[/))
        .filter(Boolean)
        .map((m) => m[1]),
    );
    assert.deepEqual([...serverPlaces].sort(), [...ajvPlaces].sort());
    for (const expected of ['summary', 'category', 'sla_working_days', 'colour', 'form.pages[0].fields[0].type',
      'workflow.states[0].title.en']) {
      assert.ok(serverPlaces.has(expected), `${expected} in ${[...serverPlaces]}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
