// stripe-stateful-mock on 127.0.0.1 only (its own start script listens on every
// interface): PORT=NNNN node ssm_loopback.js
const { createExpressApp } = require("stripe-stateful-mock");

const port = Number(process.env.PORT);
createExpressApp().listen(port, "127.0.0.1", () => console.log(`listening on 127.0.0.1:${port}`));
