/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Serverless Victoria on AWS: the four HTTP functions on Function URLs, the worker behind them,
 * the scheduled retry consumer, the configuration secret, the buckets and the alarms. One file per
 * concern under infra/; `sst deploy --stage prod` ships it. The outputs are the route URLs for the
 * Slack app manifest and Azure alerts, and the names an operator needs (the alarms' SNS topic too).
 */
export default $config({
  app(input) {
    const region = process.env.AWS_REGION || "eu-west-2";
    return {
      name: "serverless-victoria",
      home: "aws",
      removal: input?.stage === "prod" ? "retain" : "remove",
      protect: ["prod"].includes(input?.stage),
      providers: {
        // Pinned to the @pulumi/aws that SST 4.17's platform itself depends on, so `sst install`
        // is reproducible and there is one copy of the provider. Bump together with sst.
        aws: { region, version: "7.20.0" },
      },
    };
  },
  async run() {
    const { victoriaSecret } = await import("./infra/secret");
    const { vault, audit, dedupe } = await import("./infra/storage");
    const { workerFailures } = await import("./infra/hand-off");
    const { routeUrls, worker } = await import("./infra/functions");
    const { retryFailedRequests } = await import("./infra/schedule");
    const { alarmsTopic } = await import("./infra/alarms");

    return {
      ...routeUrls,
      workerName: worker.name,
      retryFunctionName: retryFailedRequests.name,
      secretName: victoriaSecret.name,
      secretArn: victoriaSecret.arn,
      vaultBucket: vault.name,
      auditBucket: audit.name,
      dedupeBucket: dedupe.name,
      workerFailuresQueue: workerFailures.url,
      // Subscribe the on-call's email, PagerDuty or Chatbot here (README: "Alarms and what to do").
      alarmsTopicArn: alarmsTopic.arn,
      alarmsTopicName: alarmsTopic.name,
    };
  },
});
