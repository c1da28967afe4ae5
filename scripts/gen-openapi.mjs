// The OpenAPI (Swagger 2.0) document of the HTTP/JSON door, generated from the google.api.http
// rules in proto/ by grpc-gateway's protoc-gen-openapiv2 (installed once with `go install`, as
// grpcurl is) and written to packages/proto/openapi.json, which the gateway serves at
// /openapi.json. test/http-door.test.mjs checks that the committed file is what this writes.
//
//   node scripts/gen-openapi.mjs            writes packages/proto/openapi.json
//   node scripts/gen-openapi.mjs --stdout   prints it instead
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureGoTool, withLock } from './lib/k8s-tools.mjs';

export const OPENAPIV2 = {
  name: 'protoc-gen-openapiv2',
  module: 'github.com/grpc-ecosystem/grpc-gateway/v2',
  pkg: 'github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2',
  version: 'v2.33.0',
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_FILE = join(root, 'packages/proto/openapi.json');

/** The document protoc-gen-openapiv2 makes of proto/ now, as the text committed. */
export function generateOpenapi() {
  const plugin = withLock(join(cacheDir(), '.openapiv2.lock'), () => ensureGoTool(OPENAPIV2));
  const out = mkdtempSync(join(tmpdir(), 'pipewright-openapi-'));
  try {
    const template = {
      version: 'v2',
      // The plugin wants a Go package for every file; the name is never written anywhere.
      managed: { enabled: true, override: [{ file_option: 'go_package_prefix', value: 'pipewright.dev/gen' }] },
      plugins: [
        {
          local: plugin,
          strategy: 'all',
          out,
          // One document for every service; field names as the JSON mapping writes them.
          opt: ['allow_merge=true', 'merge_file_name=pipewright', 'output_format=json', 'json_names_for_fields=true', 'disable_default_errors=false', 'omit_enum_default_value=false'],
        },
      ],
    };
    execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', 'proto', '--template', JSON.stringify(template)], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    const doc = JSON.parse(readFileSync(join(out, 'pipewright.swagger.json'), 'utf8'));
    doc.info = {
      title: 'pipewright HTTP/JSON API',
      description: 'The gRPC operations of pipewright as JSON over HTTP, served by the ingest-gateway (INGEST_HTTP_PORT); generated from the google.api.http rules in proto/.',
      version: 'v1',
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const text = generateOpenapi();
    if (process.argv.includes('--stdout')) process.stdout.write(text);
    else {
      writeFileSync(OPENAPI_FILE, text);
      console.log(`wrote ${OPENAPI_FILE}`);
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message.split('\n')[0] : err);
    process.exit(1);
  }
}
