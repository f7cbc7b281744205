import type { Plugin } from "../plugin";
import { auditPlugin } from "./audit";
import { configPlugin } from "./config";
import { deadletterPlugin } from "./deadletter";
import { encryptPlugin } from "./encrypt";
import { policyPlugin } from "./policy";
import { storePlugin } from "./store";

/** The plugins every Victoria build carries, in help order. */
export const corePlugins: readonly Plugin[] = [
  configPlugin,
  encryptPlugin,
  storePlugin,
  deadletterPlugin,
  policyPlugin,
  auditPlugin,
];
