import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertEtcdInstalled, freePort, killOnExit, removeOnExit } from './etcd-harness';

/** What etcd's `/v3/maintenance/status` answers (the fields the harness reads). */
interface StatusAnswer {
  header?: { member_id?: string; raft_term?: string };
  leader?: string;
}

/**
 * One member of an `EtcdClusterHarness`: its name, loopback ports and data dir, and its
 * process (killed and restarted by pid, on the same ports and data dir).
 */
export class EtcdMember {
  private process?: ChildProcess;
  private stderrTail = '';
  /** etcd's member id (hex, as /v3/maintenance/status spells it), once it answered. */
  memberId?: string;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    private readonly initialCluster: string,
    private readonly clusterToken: string,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    const child = this.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The last 4 kB etcd wrote to stderr: for failure messages. */
  get log(): string {
    return this.stderrTail;
  }

  /** Spawns etcd (does not wait: members of a new cluster only get healthy together). */
  spawn(): void {
    if (this.running) throw new Error(`etcd member ${this.name} is already running`);
    const child = spawn(
      'etcd',
      [
        `--name=${this.name}`,
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${this.url}`,
        `--advertise-client-urls=${this.url}`,
        `--listen-peer-urls=${this.peerUrl}`,
        `--initial-advertise-peer-urls=${this.peerUrl}`,
        `--initial-cluster=${this.initialCluster}`,
        // Ignored on a restart: the member then rejoins from its data dir.
        '--initial-cluster-state=new',
        `--initial-cluster-token=${this.clusterToken}`,
        '--log-level=error',
        '--logger=zap',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.process = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    killOnExit.add(child);
    child.once('exit', () => killOnExit.delete(child));
  }

  /** Resolves once this member reports healthy (`/health`: it has a raft leader). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const child = this.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `etcd member ${this.name} exited (${child?.exitCode ?? child?.signalCode}): ${this.stderrTail}`,
        );
      }
      if (await this.healthy()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `etcd member ${this.name} not healthy within ${timeoutMs} ms: ${this.stderrTail}`,
    );
  }

  /** `/health` says true (the member is up and has a leader). */
  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
      return ((await response.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }

  /** This member's view: its id and the raft leader's id it knows (undefined if down). */
  async status(): Promise<{ memberId: string; leader: string; raftTerm: number } | undefined> {
    try {
      const response = await fetch(`${this.url}/v3/maintenance/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(1000),
      });
      if (!response.ok) return undefined;
      const answer = (await response.json()) as StatusAnswer;
      const memberId = answer.header?.member_id;
      if (!memberId || !answer.leader || answer.leader === '0') return undefined;
      this.memberId = memberId;
      return { memberId, leader: answer.leader, raftTerm: Number(answer.header?.raft_term ?? 0) };
    } catch {
      return undefined;
    }
  }

  /** Kills the process (default SIGKILL: a crash) and waits for it to exit; keeps the data dir. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Starts the member again on its ports and data dir; resolves once it is healthy. */
  async restart(timeoutMs = 20_000): Promise<void> {
    await this.kill();
    this.spawn();
    await this.waitHealthy(timeoutMs);
  }
}

/**
 * A real multi-member etcd cluster (Debian's `etcd-server`) on loopback: each member on two
 * free ports with its own temp data dir, one unique `--initial-cluster-token`. Members are
 * killed and restarted by pid; `leader()` finds the raft leader through each member's
 * `/v3/maintenance/status`; `connectedMembers(pid)` tells which members a process holds TCP
 * connections to. `stop()` kills every member and removes the data dirs; members and dirs
 * still there when the jest worker exits are killed and removed too.
 */
export class EtcdClusterHarness {
  private constructor(readonly members: EtcdMember[]) {}

  /** Starts `size` members (default 3); resolves once every one of them is healthy. */
  static async start(size = 3): Promise<EtcdClusterHarness> {
    assertEtcdInstalled();
    for (let attempt = 1; ; attempt++) {
      const token = `forest-test-${randomUUID().slice(0, 8)}`;
      const ports: { client: number; peer: number }[] = [];
      for (let i = 0; i < size; i++)
        ports.push({ client: await freePort(), peer: await freePort() });
      const names = ports.map((_, i) => `m${i + 1}`);
      const initialCluster = names
        .map((name, i) => `${name}=http://127.0.0.1:${ports[i].peer}`)
        .join(',');
      const members = names.map((name, i) => {
        const dataDir = mkdtempSync(join(tmpdir(), `forest-etcd-${name}-`));
        removeOnExit.add(dataDir);
        return new EtcdMember(name, ports[i].client, ports[i].peer, dataDir, initialCluster, token);
      });
      const cluster = new EtcdClusterHarness(members);
      try {
        members.forEach((member) => member.spawn());
        await Promise.all(members.map((member) => member.waitHealthy(30_000)));
        await cluster.leader(10_000);
        return cluster;
      } catch (error) {
        await cluster.stop();
        // A port taken between probing and binding is the only expected failure: retry.
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Every member's client endpoint (`127.0.0.1:port`), in member order. */
  get endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  member(name: string): EtcdMember {
    const found = this.members.find((member) => member.name === name);
    if (!found) throw new Error(`no etcd member ${name}`);
    return found;
  }

  /**
   * The raft leader: waits until every running member answers its status and all name the
   * same leader, which is one of them.
   */
  async leader(timeoutMs = 10_000): Promise<EtcdMember> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const running = this.members.filter((member) => member.running);
      const views = await Promise.all(running.map((member) => member.status()));
      last = JSON.stringify(views);
      const answered = views.filter((view) => view !== undefined);
      if (answered.length === views.length) {
        const leaders = new Set(answered.map((view) => view.leader));
        const leaderId = answered[0]?.leader;
        const leader = running.find((member) => member.memberId === leaderId);
        if (leaders.size === 1 && leader) return leader;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no agreed etcd raft leader within ${timeoutMs} ms; last views: ${last}`);
  }

  /** Resolves once every running member is healthy and they agree on a leader. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      this.members
        .filter((member) => member.running)
        .map((member) => member.waitHealthy(timeoutMs)),
    );
    await this.leader(timeoutMs);
  }

  /**
   * The members process `pid` has an established TCP connection to (by client port), read
   * from /proc: the sockets among its open files, matched with /proc/net/tcp{,6}. Linux only.
   */
  connectedMembers(pid: number): EtcdMember[] {
    const inodes = new Set<string>();
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return [];
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
    const remotePorts = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string;
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
        if (fields.length < 10 || fields[3] !== '01' || !inodes.has(fields[9])) continue;
        remotePorts.add(parseInt(fields[2].split(':')[1], 16));
      }
    }
    return this.members.filter((member) => remotePorts.has(member.clientPort));
  }

  /** Kills every member and removes their data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.kill('SIGKILL')));
    for (const member of this.members) {
      rmSync(member.dataDir, { recursive: true, force: true });
      removeOnExit.delete(member.dataDir);
    }
  }
}
