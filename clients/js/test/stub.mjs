// A loopback HTTP stub whose answer a test sets, recording the requests it gets.

import http from 'node:http';

export async function startStub() {
  const stub = {
    response: { status: 404, body: '', headers: {} },
    handler: null, // optional (req) => ({ status, body, headers })
    requests: [],
    get hits() {
      return this.requests.length;
    },
  };
  const server = http.createServer((req, res) => {
    stub.requests.push({ url: req.url, headers: req.headers });
    const { status, body, headers = {} } = stub.handler ? stub.handler(req) : stub.response;
    const bytes = Buffer.from(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length, ...headers });
    res.end(bytes);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${server.address().port}`;
  stub.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    });
  return stub;
}
