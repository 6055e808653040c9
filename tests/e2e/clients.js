// Calls the server through Alibaba Cloud's Node.js clients, as a user's script would.
//   node clients.js pop-core|pop-core-post|openapi|openapi-get ENDPOINT KEY_ID SECRET ACTION PARAMS_JSON [VERSION]
// Prints {"body": …} on success, {"error": {"code", "status", "message"}} on an API error.
'use strict';

const [client, endpoint, keyId, secret, action, paramsJson, version = '2022-04-19'] = process.argv.slice(2);
const params = JSON.parse(paramsJson || '{}');

function print(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}

async function popCore(method) {
  const RPCClient = require('@alicloud/pop-core').RPCClient;
  const c = new RPCClient({ accessKeyId: keyId, accessKeySecret: secret, endpoint, apiVersion: version });
  try {
    print({ body: await c.request(action, params, { method, timeout: 10000 }) });
  } catch (e) {
    print({ error: { code: e.code, status: e.statusCode, message: e.message } });
  }
}

async function openapi(method) {
  const OpenApi = require('@alicloud/openapi-client');
  const Util = require('@alicloud/tea-util');
  const url = new URL(endpoint);
  const c = new OpenApi.default(new OpenApi.Config({ accessKeyId: keyId, accessKeySecret: secret, endpoint: url.host, protocol: 'http' }));
  const p = new OpenApi.Params({
    action, version, protocol: 'HTTP', pathname: '/', method, authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  try {
    const res = await c.callApi(p, new OpenApi.OpenApiRequest({ query: params }), new Util.RuntimeOptions({}));
    print({ body: res.body });
  } catch (e) {
    print({ error: { code: e.code, status: e.statusCode, message: e.message } });
  }
}

const run = {
  'pop-core': () => popCore('GET'),
  'pop-core-post': () => popCore('POST'),
  'openapi': () => openapi('POST'),
  'openapi-get': () => openapi('GET'),
}[client];
if (!run) {
  console.error(`unknown client ${client}`);
  process.exit(2);
}
run();
