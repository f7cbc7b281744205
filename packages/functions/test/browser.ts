import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { brotliDecompressSync, createBrotliDecompress, inflateSync } from "node:zlib";
import { type Browser, chromium } from "playwright-core";
import { repoRoot } from "./spawn-local-server";

/**
 * The browser of the browser tests, so that `npm ci && npm test` needs nothing installed beforehand.
 *
 * By default it is the headless Chromium that `@sparticuz/chromium` ships brotli-packed inside its
 * npm tarball (Linux x64; nothing is downloaded at install time), with the NSS libraries it packs
 * beside it, unpacked once per version into node_modules/.cache (so `npm ci` starts it afresh).
 * `CHROMIUM_PATH` names another Chromium or Chrome instead (another platform, another version).
 * Either way the browser gets its own fontconfig: the system's fonts, Noto Color Emoji (so emoji are
 * not drawn as empty boxes where no emoji font is installed) and, with the shipped binary, the Open
 * Sans it comes with (so text is drawn even where no font is installed at all).
 */
export async function launchChromium(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH || undefined;
  const shipped = override ? undefined : await unpackShippedChromium();
  const executablePath = override ?? shipped?.executable;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  env.FONTCONFIG_FILE = await writeFontConfig(shipped);
  // The shipped binary is built for Amazon Linux: its NSS comes from the package, not the host.
  if (shipped) env.LD_LIBRARY_PATH = [shipped.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  try {
    return await chromium.launch({
      executablePath,
      env,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
      ],
    });
  } catch (error) {
    const what = override
      ? `CHROMIUM_PATH=${override}: point it at a Chrome or Chromium binary, or unset it to use the one npm ci installs`
      : `${executablePath}, unpacked from @sparticuz/chromium: run 'npm ci' again (or delete ${cacheRoot}); ` +
        "set CHROMIUM_PATH to a Chrome or Chromium binary to use another";
    throw new Error(`The browser test could not start Chromium (${what}): ${(error as Error).message}`);
  }
}

const cacheRoot = join(repoRoot, "node_modules", ".cache", "browser-tests");
const localRequire = createRequire(import.meta.url);

interface Unpacked {
  executable: string;
  libDir: string;
  fontDir: string;
}

let unpacking: Promise<Unpacked> | undefined;

function unpackShippedChromium(): Promise<Unpacked> {
  unpacking ??= unpackOnce();
  return unpacking;
}

async function unpackOnce(): Promise<Unpacked> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `The Chromium that npm ci installs (@sparticuz/chromium) runs on Linux x64 only, not ${process.platform} ` +
        `${process.arch}: set CHROMIUM_PATH to a Chrome or Chromium binary to run the browser test`,
    );
  }
  const { dir: packageDir, version } = await installedPackage("@sparticuz/chromium");
  const dir = join(cacheRoot, `chromium-${version}`);
  await once(dir, async (tmp) => {
    const bin = join(packageDir, "bin");
    await pipeline(
      createReadStream(join(bin, "chromium.br")),
      createBrotliDecompress(),
      createWriteStream(join(tmp, "chromium"), { mode: 0o755 }),
    );
    // Small tar archives (lib/ with NSS and expat, fonts/ with Open Sans): the system tar unpacks them.
    for (const archive of ["al2023.tar.br", "fonts.tar.br"]) {
      execFileSync("tar", ["-x", "--no-same-owner", "-C", tmp], {
        input: brotliDecompressSync(await readFile(join(bin, archive))),
      });
    }
  });
  return { executable: join(dir, "chromium"), libDir: join(dir, "lib"), fontDir: join(dir, "fonts") };
}

/** A fontconfig file that keeps the system's fonts and adds the packaged ones. */
async function writeFontConfig(shipped: Unpacked | undefined): Promise<string> {
  const { dir: fontPackage, version } = await installedPackage("@fontsource/noto-color-emoji");
  const woff = join(fontPackage, "files", "noto-color-emoji-emoji-400-normal.woff");
  const emojiDir = join(cacheRoot, `noto-color-emoji-${version}`);
  // Chromium's fontconfig reads TrueType but not WOFF, the format this font is published in.
  await once(emojiDir, async (tmp) => {
    await writeFile(join(tmp, "NotoColorEmoji.ttf"), woffToSfnt(await readFile(woff)));
  });
  const dirs = [emojiDir, ...(shipped ? [shipped.fontDir] : [])];
  const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const file = join(cacheRoot, `fonts-${shipped ? "shipped" : "override"}.conf`);
  // Written aside and renamed, so a browser starting at the same time never reads half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  await mkdir(cacheRoot, { recursive: true });
  await writeFile(
    tmp,
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
${dirs.map((dir) => `  <dir>${xml(dir)}</dir>`).join("\n")}
  <cachedir>${xml(join(cacheRoot, "fontconfig"))}</cachedir>
</fontconfig>
`,
  );
  await rename(tmp, file);
  return file;
}

/**
 * Fills `dir` once: into a private directory first, renamed into place when complete, so a run that
 * was killed half-way or a second test process at the same time never sees a partial copy.
 */
async function once(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(dir)) return;
  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw error; // else another process finished first: use its copy
  }
}

/** Where an installed package is, found from its entry point (not every exports map lists package.json). */
async function installedPackage(name: string): Promise<{ dir: string; version: string }> {
  let entry: string;
  try {
    entry = localRequire.resolve(name);
  } catch {
    throw new Error(`${name} is not installed: run 'npm ci'`);
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const { name: found, version } = JSON.parse(await readFile(manifest, "utf8")) as {
      name?: string;
      version: string;
    };
    if (found === name) return { dir, version };
  }
  throw new Error(`${name}: no package.json above ${entry}`);
}

/**
 * WOFF 1.0 back to the TrueType/OpenType file it wraps (W3C WOFF 1.0, §4–5): the same tables,
 * each zlib-inflated when it was stored compressed, behind a rebuilt sfnt table directory.
 */
function woffToSfnt(woff: Buffer): Buffer {
  if (woff.toString("latin1", 0, 4) !== "wOFF") throw new Error("not a WOFF 1.0 file");
  const numTables = woff.readUInt16BE(12);
  const header = Buffer.alloc(12 + 16 * numTables);
  header.writeUInt32BE(woff.readUInt32BE(4), 0); // the sfnt version ("flavor")
  header.writeUInt16BE(numTables, 4);
  const log2 = Math.floor(Math.log2(numTables));
  header.writeUInt16BE(16 * 2 ** log2, 6); // searchRange
  header.writeUInt16BE(log2, 8); // entrySelector
  header.writeUInt16BE(16 * numTables - 16 * 2 ** log2, 10); // rangeShift
  const tables: Buffer[] = [header];
  let offset = header.length;
  for (let i = 0; i < numTables; i++) {
    const entry = 44 + 20 * i;
    const [tag, at, compLength, origLength, checksum] = [0, 4, 8, 12, 16].map((field) =>
      woff.readUInt32BE(entry + field),
    ) as [number, number, number, number, number];
    const stored = woff.subarray(at, at + compLength);
    const data = compLength < origLength ? inflateSync(stored) : stored;
    const out = 12 + 16 * i;
    header.writeUInt32BE(tag, out);
    header.writeUInt32BE(checksum, out + 4);
    header.writeUInt32BE(offset, out + 8);
    header.writeUInt32BE(origLength, out + 12);
    const padded = Buffer.alloc((data.length + 3) & ~3); // tables start on 4-byte boundaries
    data.copy(padded);
    tables.push(padded);
    offset += padded.length;
  }
  return Buffer.concat(tables);
}
