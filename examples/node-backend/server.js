// node server.js — listens on 127.0.0.1:$PORT (default 8000); configured by the environment (see app.js).

import { createApp, settingsFromEnv } from './app.js';

const app = createApp(settingsFromEnv());
const port = Number(process.env.PORT || 8000);
const server = app.listen(port, process.env.HOST || '127.0.0.1', () => {
  console.log(`tasks backend on http://${server.address().address}:${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    app.close();
    server.close(() => process.exit(0));
  });
}
