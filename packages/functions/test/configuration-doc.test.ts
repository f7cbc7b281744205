import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_AUTHORITY_HOST } from "@victoria/core/adapters/azure/entra-authority";
import { DEFAULT_GRAPH_API_URL } from "@victoria/core/adapters/azure/graph-directory";
import { DEFAULT_VAULT_DIR } from "@victoria/core/adapters/local/file-vault";
import { DEFAULT_REPLAY_LIMIT } from "@victoria/core/deadletter/dead-letter-actions-from-env";
import { DEFAULT_SECRET_TTL_MS } from "@victoria/core/secrets/secrets";
import { describe, expect, it } from "vitest";
import {
  DEV_DEFAULTS,
  readBusSettings,
  readExecuteSettings,
  readSlackCommandSettings,
} from "../src/settings";

/**
 * docs/configuration.md must name exactly what the code reads. The code reads its settings in
 * several packages and ways (core cannot import the functions' settings), so rather than one
 * declared list this test scans the source for every way it reads a name, and fails on either
 * side of a difference. See the doc's opening section for the rules it enforces.
 */

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** This file names the old document on purpose, to look for it. */
const SELF = relative(ROOT, fileURLToPath(import.meta.url));
const DOC = "docs/configuration.md";
/** The doc's section for names only tests and benchmarks read. */
const TEST_SECTION = "Tests and benchmarks";

/**
 * Quoted UPPER_SNAKE literals in the product code that are not environment variables. Every other
 * such literal is taken for a setting name, so a new way of reading one cannot slip past the scan.
 */
const NOT_VARIABLES = new Set([
  "AUTHENTICATE_URL", // scripts/slack-manifest.ts: placeholder hosts in the manifest template
  "RESOLVE_URL",
  "EAI_AGAIN", // network error codes (failure-class.ts)
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "REQUEST_SEND_ERROR",
  "MSG_SERVICE_ANY", // the failed-requests envelope's target and type
  "MSG_VICTORIA_REQUEST_FAILED",
  "WHEN_REQUIRED", // an S3 client checksum option
]);
/** UPPER_SNAKE words the README uses that are not environment variables. */
const README_NOT_VARIABLES = new Set(["EX_TEMPFAIL", "MSG_VICTORIA_REQUEST_FAILED"]);

const CODE_EXTENSIONS = /\.(ts|mts|mjs|js)$/;
const isTest = (path: string) =>
  /\.test\.ts$/.test(path) || /(^|\/)test\//.test(path) || path.startsWith("bench/");

function walk(dir: string): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!["node_modules", "dist", "results", ".sst", ".victoria"].includes(entry.name))
        out.push(...walk(path));
    } else if (CODE_EXTENSIONS.test(entry.name) || dir.endsWith("/bin")) out.push(path);
  }
  return out;
}

function sourceFiles(): string[] {
  const packages = readdirSync(join(ROOT, "packages"));
  return [
    ...packages.flatMap((name) => [
      ...walk(`packages/${name}/src`),
      ...walk(`packages/${name}/test`),
      ...walk(`packages/${name}/scripts`),
      ...walk(`packages/${name}/bin`),
    ]),
    ...walk("infra"),
    ...walk("scripts"),
    ...walk("bench"),
    "sst.config.ts",
  ];
}

/** Drops whole-line and trailing `//` comments and JSDoc lines: names in prose are not reads. */
function stripComments(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .map((line) => line.replace(/\s\/\/\s.*$/, ""))
    .join("\n");
}

const NAME = "[A-Z][A-Z0-9_]*";
/** Ways the code reads one name; each has the name in its first group. */
const READS: readonly RegExp[] = [
  // process.env.NAME, process.env["NAME"] (any case: npm sets lower-case names)
  /\bprocess\.env\??\.([A-Za-z_][A-Za-z0-9_]*)/g,
  /\bprocess\.env\[\s*["'`]([A-Za-z_][A-Za-z0-9_]*)["'`]\s*\]/g,
  // env.NAME, env?.NAME, env["NAME"], and the env-derived objects of the local server and the twin
  // (an assignment such as `env.NAME = …` for a child process is a write, not a read)
  new RegExp(String.raw`\b(?:env|settings|secret)\??\.(${NAME})\b(?!\s*=[^=])`, "g"),
  new RegExp(String.raw`\b(?:env|settings|secret)\[\s*["'\`](${NAME})["'\`]\s*\]`, "g"),
  // requireSetting(env, "NAME"), optionalSetting(…), portSetting(settings, "NAME")
  new RegExp(String.raw`\b\w+Setting\(\s*\w+\s*,\s*["'](${NAME})["']`, "g"),
];
/** Settings listed as data: `{ NAME: … }` keys of these objects, and quoted names in these arrays. */
const LISTED_OBJECTS = /\b(?:DEV_DEFAULTS\s*=|environment:)\s*\{([^}]*)\}/g;
const LISTED_ARRAYS = /\b[A-Z][A-Z0-9_]*_(?:NAMES|KEYS|VARIABLES)\s*=\s*\[([^\]]*)\]/g;
/** Any quoted UPPER_SNAKE literal in product code (checked against NOT_VARIABLES). */
const QUOTED = /["'`]([A-Z][A-Z0-9]*_[A-Z0-9_]+)["'`]/g;

interface Scan {
  /** Name → files that read it. */
  product: Map<string, Set<string>>;
  tests: Map<string, Set<string>>;
}

function scan(): Scan {
  const result: Scan = { product: new Map(), tests: new Map() };
  for (const file of sourceFiles()) {
    const code = stripComments(readFileSync(join(ROOT, file), "utf8"));
    const names = new Set<string>();
    for (const pattern of READS) for (const match of code.matchAll(pattern)) names.add(match[1] as string);
    if (!isTest(file)) {
      for (const match of code.matchAll(LISTED_OBJECTS))
        for (const key of (match[1] as string).matchAll(new RegExp(String.raw`\b(${NAME}):`, "g")))
          names.add(key[1] as string);
      for (const match of code.matchAll(LISTED_ARRAYS))
        for (const item of (match[1] as string).matchAll(new RegExp(`["'](${NAME})["']`, "g")))
          names.add(item[1] as string);
      for (const match of code.matchAll(QUOTED))
        if (!NOT_VARIABLES.has(match[1] as string)) names.add(match[1] as string);
    }
    const into = isTest(file) ? result.tests : result.product;
    for (const name of names) {
      if (!into.has(name)) into.set(name, new Set());
      into.get(name)?.add(file);
    }
  }
  return result;
}

interface Row {
  name: string;
  section: string;
  cells: Record<string, string>;
}

/** The doc's table rows: one name per row, in backticks in the first cell, under `## ` sections. */
function documentedRows(markdown: string): Row[] {
  const rows: Row[] = [];
  let section = "";
  let header: string[] = [];
  const cellsOf = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, "")
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
  for (const line of markdown.split("\n")) {
    if (line.startsWith("## ")) section = line.slice(3).trim();
    if (!line.startsWith("|")) {
      header = [];
      continue;
    }
    const cells = cellsOf(line);
    if (header.length === 0) {
      header = cells.map((cell) => cell.toLowerCase());
      continue;
    }
    const name = /^`([A-Za-z_][A-Za-z0-9_]*)`$/.exec(cells[0] ?? "")?.[1];
    if (!name) continue;
    rows.push({ name, section, cells: Object.fromEntries(header.map((key, i) => [key, cells[i] ?? ""])) });
  }
  return rows;
}

const where = (files: Set<string> | undefined) => [...(files ?? [])].sort().join(", ");

describe("docs/configuration.md", () => {
  const doc = readFileSync(join(ROOT, DOC), "utf8");
  const rows = documentedRows(doc);
  const { product, tests } = scan();
  const productRows = rows.filter((row) => row.section !== TEST_SECTION);
  const testRows = rows.filter((row) => row.section === TEST_SECTION);

  it("has one row per name", () => {
    const seen = new Set<string>();
    const twice = rows.filter((row) => seen.size === seen.add(row.name).size).map((row) => row.name);
    expect(twice, "documented twice").toEqual([]);
    expect(rows.length).toBeGreaterThan(40);
  });

  it("documents every name the product code reads", () => {
    const documented = new Set(productRows.map((row) => row.name));
    const missing = [...product.keys()]
      .filter((name) => !documented.has(name))
      .map((name) => `${name} (read in ${where(product.get(name))})`);
    expect(missing, `not in ${DOC} (or, if not a variable, add it to NOT_VARIABLES here)`).toEqual([]);
  });

  it("documents only names the product code still reads", () => {
    const stale = productRows.map((row) => row.name).filter((name) => !product.has(name));
    expect(stale, `in ${DOC} but read nowhere in the product code`).toEqual([]);
  });

  it("lists what only tests and benchmarks read in its own section, and nothing else there", () => {
    const documented = new Set(rows.map((row) => row.name));
    const missing = [...tests.keys()]
      .filter((name) => !documented.has(name))
      .map((name) => `${name} (read in ${where(tests.get(name))})`);
    expect(missing, `not in ${DOC}`).toEqual([]);
    const misplaced = testRows
      .map((row) => row.name)
      .filter((name) => !tests.has(name) || product.has(name))
      .map((name) => `${name} (${product.has(name) ? "the product reads it" : "nothing reads it"})`);
    expect(misplaced, `wrong in ${DOC}'s "${TEST_SECTION}"`).toEqual([]);
  });

  it("states the defaults the code uses", () => {
    const required = { VICTORIA_SHARED_SECRET: "x", SLACK_SIGNING_SECRET: "x", SLACK_BOT_TOKEN: "x" };
    const slack = readSlackCommandSettings(required);
    // Each expected value must appear in backticks in the row's `default` cell.
    const expected: Record<string, string> = {
      ...DEV_DEFAULTS,
      VICTORIA_TIMEOUT_SECONDS: String(readExecuteSettings(required).timeoutMs / 1000),
      VICTORIA_EXECUTE_TIMEOUT_SECONDS: String(slack.executeTimeoutMs / 1000),
      AUDIT_LOG_FILE: slack.auditLogFile,
      FAILED_REQUESTS_QUEUE: readBusSettings({}).failedRequestsQueue,
      VAULT_DIR: DEFAULT_VAULT_DIR,
      REPLAY_LIMIT: String(DEFAULT_REPLAY_LIMIT),
      VICTORIA_SECRET_TTL_SECONDS: String(DEFAULT_SECRET_TTL_MS / 1000),
      GRAPH_API_URL: DEFAULT_GRAPH_API_URL,
      AZURE_AUTHORITY_HOST: DEFAULT_AUTHORITY_HOST,
    };
    const wrong = Object.entries(expected)
      .map(([name, value]) => ({ name, value, cell: rows.find((row) => row.name === name)?.cells.default }))
      .filter(({ value, cell }) => !cell?.includes(`\`${value}\``))
      .map(({ name, value, cell }) => `${name}: code says ${value}, doc says ${cell ?? "(no row)"}`);
    expect(wrong).toEqual([]);
  });
});

describe("the README and code comments", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const documented = new Set(documentedRows(readFileSync(join(ROOT, DOC), "utf8")).map((row) => row.name));

  it("links to the configuration and contracts docs", () => {
    const links = ["(docs/configuration.md)", "(docs/contracts.md)"];
    expect(
      links.filter((link) => !readme.includes(link)),
      "README lacks these links",
    ).toEqual([]);
  });

  it("names no variable the configuration doc lacks", () => {
    const names = new Set(
      [...readme.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/g)].map((m) => m[1] as string),
    );
    const unknown = [...names].filter((name) => !documented.has(name) && !README_NOT_VARIABLES.has(name));
    expect(unknown, `README names these; document them in ${DOC} or fix the README`).toEqual([]);
  });

  it("points at documents that exist (no CONTRACTS.md outside the repository)", () => {
    const pointing = [...sourceFiles(), "README.md"].filter(
      (file) => file !== SELF && readFileSync(join(ROOT, file), "utf8").includes("CONTRACTS.md"),
    );
    expect(pointing).toEqual([]);
  });
});
