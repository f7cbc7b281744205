/// <reference path="./.sst/platform/config.d.ts" />

// Minimal until the deployment issue: the execute function on a Function URL, its secret from SST.
export default $config({
  app(input) {
    return {
      name: "serverless-victoria",
      home: "aws",
      removal: input?.stage === "prod" ? "retain" : "remove",
      protect: input?.stage === "prod",
      providers: { aws: { region: "eu-west-2" } },
    };
  },
  async run() {
    const sharedSecret = new sst.Secret("VictoriaSharedSecret");
    const execute = new sst.aws.Function("Execute", {
      handler: "packages/functions/src/lambda/execute.handler",
      runtime: "nodejs20.x",
      timeout: "30 seconds",
      memory: "512 MB",
      url: true,
      environment: { VICTORIA_SHARED_SECRET: sharedSecret.value },
    });
    return { execute: execute.url };
  },
});
