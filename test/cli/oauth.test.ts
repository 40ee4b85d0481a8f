import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { generateRsaKeyPair } from "../../src/providers/jira/oauth.js";
import { type JiraFake, TEST_KEY_PEM, oauthProblem, startJira } from "../fakes/jira.js";
import { ROOT, run, runBin, testDeps, watchText } from "../helpers.js";
import { JIRA_ID, NOW, expectNoSecrets, jiraWorld } from "../world.js";

const w = jiraWorld();
let keyFile: string;
beforeEach(() => {
  keyFile = join(w.dir, "w.jira.pem");
  writeFileSync(keyFile, TEST_KEY_PEM, { mode: 0o600 });
});

const credentialsFile = () => join(w.dir, "config", "credentials.json");
const flags = () => ["oauth", "jira", "--base-url", w.jira.url, "--consumer-key", "hooksync", "--private-key", keyFile, "--db", w.db];

/** Drives the real prompts through the injected terminal streams, answering as a user types. */
interface Terminal {
  /** What the command wrote to stderr so far. */
  screen: () => string;
  /** Resolves once the screen shows the text. */
  prompted: (part: string) => Promise<unknown>;
  type: (s: string) => void;
}

async function interactive(argv: string[], answer: (t: Terminal) => Promise<void>) {
  const stdin = new PassThrough();
  const opened: string[] = [];
  const { deps, output, prompted } = testDeps({ tty: true, stdin, env: w.env, openUrl: async (url) => (opened.push(url), true) });
  const done = main(argv, deps);
  await answer({ screen: () => output().stderr, prompted, type: (s) => stdin.write(s) });
  const code = await done;
  return { code, ...output(), opened };
}

const onlyRequestToken = () => [...w.jira.state.requestTokens.keys()].at(-1)!;

describe("oauth jira, interactive", () => {
  it("requests a token, opens the authorize URL, asks for the code, checks /myself and stores the credentials 0600", async () => {
    const r = await interactive([...flags(), "--integration", JIRA_ID], async ({ prompted, type }) => {
      await prompted("Open it in your browser?");
      type("y\r");
      await prompted("Verification code");
      type(`${w.jira.approve(onlyRequestToken(), "jdoe")}\r`);
    });
    expect(r.code).toBe(0);
    expect(r.opened).toEqual([expect.stringMatching(new RegExp(`^${w.jira.url}/plugins/servlet/oauth/authorize\\?oauth_token=[0-9a-f]+$`))]);
    expect(r.stdout).toBe(`signed in to ${w.jira.url} as Jane Doe (jdoe); credentials saved to ${credentialsFile()}\n`);
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(w.dir, "config")).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(credentialsFile(), "utf8")).jira[w.jira.url];
    expect(saved).toMatchObject({ consumerKey: "hooksync", integration: JIRA_ID, privateKey: TEST_KEY_PEM, user: { name: "jdoe" } });
    expect(w.jira.state.accessTokens.has(saved.accessToken)).toBe(true);
    expectNoSecrets(r, [saved.accessToken, saved.accessTokenSecret, TEST_KEY_PEM.split("\n")[1]!]);
  });

  it("offers to generate a key pair, shows the public key and the application-link steps, then goes on", async () => {
    const argv = ["oauth", "jira", "--base-url", w.jira.url, "--consumer-key", "fresh", "--db", w.db, "--no-browser"];
    const r = await interactive(argv, async ({ screen, prompted, type }) => {
      await prompted("Generate a new RSA key pair");
      type("y\r");
      await prompted("Is the application link created?");
      const publicKey = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(screen())![0];
      // The Jira administrator pastes it into the incoming link.
      w.jira.state.consumers.set("fresh", (await import("node:crypto")).createPublicKey(publicKey));
      type("y\r");
      await prompted("Verification code");
      type(`${w.jira.approve(onlyRequestToken())}\r`);
    });
    expect(r.stderr).toContain("Incoming link: Consumer Key 'fresh'");
    expect(r.stderr).not.toContain("Open it in your browser?");
    expect(r.code).toBe(0);
    const host = new URL(w.jira.url).host.replace(/[^\w.-]/g, "_");
    expect(statSync(join(w.dir, "config", `jira-${host}.pem`)).mode & 0o777).toBe(0o600);
  });

  it("exits 130 when the user presses Ctrl-C at the prompt", async () => {
    const r = await interactive([...flags(), "--no-browser"], async ({ prompted, type }) => {
      await prompted("Verification code");
      type("\x03");
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/hooksync: cancelled\n$/);
  });

  it("without a TTY refuses to start the dance and names the two-step form (exit 2)", async () => {
    const r = await run(flags(), { env: w.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "hooksync: oauth jira asks for the verification code, and there is no terminal (use --step request, then --step access --request-token <t> --request-token-secret <s> --verifier <code>)\n",
    );
    expect(w.jira.requests).toHaveLength(0);
  });

  it.each([
    [["oauth", "jira", "--consumer-key", "k", "--private-key", "k.pem"], "--base-url"],
    [["oauth", "jira", "--base-url", "http://jira.test", "--private-key", "k.pem"], "--consumer-key"],
    [["oauth", "jira", "--base-url", "http://jira.test", "--consumer-key", "k"], "--private-key"],
  ])("without a TTY and without %j's missing value exits 2 naming %s", async (argv, flag) => {
    const r = await run(argv, { env: w.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
  });
});

describe("oauth jira --step", () => {
  const step = async (...extra: string[]) => run([...flags(), ...extra], { env: w.env });

  it("request prints the authorize URL and the request token as JSON; access finishes", async () => {
    const r1 = await step("--step", "request");
    expect(r1.code).toBe(0);
    const t = JSON.parse(r1.stdout) as { authorizeUrl: string; requestToken: string; requestTokenSecret: string };
    expect(Object.keys(t)).toEqual(["authorizeUrl", "requestToken", "requestTokenSecret"]);
    expect(t.authorizeUrl).toBe(`${w.jira.url}/plugins/servlet/oauth/authorize?oauth_token=${t.requestToken}`);
    const verifier = w.jira.approve(t.requestToken);
    const r2 = await step("--step", "access", "--request-token", t.requestToken, "--request-token-secret", t.requestTokenSecret, "--verifier", verifier, "--json");
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.stdout)).toEqual({
      baseUrl: w.jira.url,
      consumerKey: "hooksync",
      integration: null,
      user: { name: "admin", key: "admin", displayName: "Alice Admin", emailAddress: "alice.admin@example.com" },
      credentials: credentialsFile(),
    });
  });

  it("access names every missing value at once (exit 2)", async () => {
    const r = await step("--step", "access", "--request-token", "x");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hooksync: missing --request-token-secret, --verifier /);
  });

  const requestToken = async () => JSON.parse((await step("--step", "request")).stdout) as { requestToken: string; requestTokenSecret: string };
  const access = (t: { requestToken: string; requestTokenSecret: string }, verifier: string) =>
    step("--step", "access", "--request-token", t.requestToken, "--request-token-secret", t.requestTokenSecret, "--verifier", verifier);

  it.each([
    ["an unknown consumer key", async () => run(["oauth", "jira", "--base-url", w.jira.url, "--consumer-key", "nobody", "--private-key", keyFile, "--step", "request"], { env: w.env }), 'Jira knows no OAuth consumer "nobody"'],
    [
      "a private key that does not match the application link",
      async () => {
        const other = join(w.dir, "other.pem");
        writeFileSync(other, generateRsaKeyPair().privateKeyPem);
        return run(["oauth", "jira", "--base-url", w.jira.url, "--consumer-key", "hooksync", "--private-key", other, "--step", "request"], { env: w.env });
      },
      "Jira could not verify the request's RSA-SHA1 signature (the public key in Jira's application link must match --private-key",
    ],
    [
      "a clock five minutes and more off",
      async () => {
        w.jira.state.now = () => NOW + 3600_000;
        return step("--step", "request");
      },
      "Jira refused the request's timestamp (this machine's clock is off from Jira's (Jira accepts",
    ],
    [
      "a denied authorization",
      async () => {
        const t = await requestToken();
        w.jira.deny(t.requestToken);
        return access(t, "whatever");
      },
      "access was denied on Jira's authorize page",
    ],
    ["a request token not yet authorised", async () => access(await requestToken(), "whatever"), "the request token has not been authorised yet"],
    [
      "a request token used twice",
      async () => {
        const t = await requestToken();
        const v = w.jira.approve(t.requestToken);
        expect((await access(t, v)).code).toBe(0);
        return access(t, v);
      },
      "Jira rejected the OAuth token (the request token expired, was used, or access was denied",
    ],
    [
      "a replayed nonce",
      async () => {
        w.jira.failNext(oauthProblem(w.jira.state, "nonce_used"));
        return step("--step", "request");
      },
      "Jira has already seen this request's nonce",
    ],
    [
      "an expired verifier (oauth_error, as Sentry's tests saw it)",
      async () => {
        const t = await requestToken();
        w.jira.failNext({ status: 404, headers: { "content-type": "text/plain" }, body: "oauth_error=token+expired" });
        return access(t, "x");
      },
      "the OAuth token has expired",
    ],
  ])("answers %s with exit 4 and what to do", async (_case, act, message) => {
    const r = await act();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("says which URL Jira signs for when a proxy changes it", async () => {
    w.jira.state.selfUrl = "http://jira.internal:8080";
    const r = await step("--step", "request");
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`Jira signs for http://jira.internal:8080/plugins/servlet/oauth/request-token but hooksync called ${w.jira.url}/plugins/servlet/oauth/request-token`);
  });

  it.each([
    ["a 500 page on access", { status: 500, headers: { "content-type": "text/html" }, body: "<html>it broke</html>" }, "Jira failed (HTTP 500 on exchange the verification code for an access token)", 1],
    ["a 2xx without oauth_token", { status: 200, headers: { "content-type": "text/plain" }, body: "hello" }, "Jira's answer to access-token carries no oauth_token", 1],
  ])("answers %s with exit %s", async (_c, reply, message, code) => {
    const t = await requestToken();
    w.jira.failNext(reply);
    const r = await access(t, "x");
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(code);
  });

  it("gives up on a Jira that does not answer, after the bounded retries", async () => {
    w.jira.failNext({ delayMs: 400 }, { times: 10 });
    const r = await step("--step", "request", "--timeout", "0.1");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hooksync: 127\.0\.0\.1:\d+ did not answer within 0\.1 s \(get a request token\) \(try again later, or raise --timeout; gave up after 4 attempts\)\n$/);
    expect(r.sleeps).toHaveLength(3);
  });

  it("refuses a private key file that is not a PEM key (exit 2)", async () => {
    writeFileSync(keyFile, "hot-garbage");
    const r = await step("--step", "request");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not an unencrypted PEM private key");
  });
});

describe("oauth jira --generate-key", () => {
  it("writes the private key 0600, prints the public key, and never overwrites", async () => {
    const file = join(w.dir, "new.pem");
    const r = await run(["oauth", "jira", "--generate-key", file, "--base-url", "https://jira.example.com"], { env: w.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    expect(r.stderr).toContain("https://jira.example.com: Administration > Applications > Application links");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(readFileSync(file, "utf8").split("\n")[1]);
    const again = await run(["oauth", "jira", "--generate-key", file], { env: w.env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("never overwrites");
  });
});

describe("oauth jira as a child process", () => {
  let live: JiraFake;
  beforeAll(async () => {
    // The child has the real clock.
    live = await startJira();
  });
  afterAll(() => live.close());

  it("runs the two-step form without a TTY", async () => {
    const base = ["oauth", "jira", "--base-url", live.url, "--consumer-key", "hooksync", "--private-key", keyFile];
    const r1 = await runBin([...base, "--step", "request"], { env: w.env });
    expect(r1.stderr).toContain("--step access");
    expect(r1.code).toBe(0);
    const t = JSON.parse(r1.stdout) as { requestToken: string; requestTokenSecret: string };
    const verifier = live.approve(t.requestToken, "jdoe");
    const r2 = await runBin([...base, "--step", "access", "--request-token", t.requestToken, "--request-token-secret", t.requestTokenSecret, "--verifier", verifier], { env: w.env });
    expect(r2.stderr).toBe("");
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain("as Jane Doe (jdoe)");
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(credentialsFile(), "utf8")).jira[live.url];
    expectNoSecrets(r2, [saved.accessToken, saved.accessTokenSecret]);
  });

  it("without a TTY and without --step exits 2", async () => {
    const r = await runBin(["oauth", "jira", "--base-url", live.url, "--consumer-key", "hooksync", "--private-key", keyFile], { env: w.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--step request");
  });

  it.runIf(existsSync("/usr/bin/script"))("runs the interactive dance in a pseudo-terminal", async () => {
    const cmd = [process.execPath, join(ROOT, "bin", "hooksync.js"), "oauth", "jira", "--base-url", live.url, "--consumer-key", "hooksync", "--private-key", keyFile, "--no-browser"]
      .map((a) => `'${a}'`)
      .join(" ");
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...w.env, TERM: "dumb" } });
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const screen = watchText([child.stdout], exited);
    await screen.until("Verification code");
    const rt = [...live.state.requestTokens.keys()].at(-1)!;
    child.stdin.write(`${live.approve(rt)}\r`);
    expect(await exited).toBe(0);
    expect(screen.text()).toContain("as Alice Admin (admin)");
  });
});
