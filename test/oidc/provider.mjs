// provider.mjs - a real OpenID Connect provider (the npm package oidc-provider) for
// carebridge's sign-in tests, on 127.0.0.1 only.
//
//   node provider.mjs PORT REDIRECT_URIS POST_LOGOUT_URIS   (each comma-separated)
//
// One confidential client, "carebridge" / "carebridge-test-secret", with PKCE. The
// development login form takes any login (it becomes the subject, and
// "<login>@example.nhs.uk" the verified e-mail); consent is granted without asking.
// It prints "listening <port>" once it accepts connections.
//
// To prove carebridge refuses bad ID tokens, GET /__test/next?mode=M makes the next
// token response carry a doctored ID token (re-signed by this script with jose):
//   es256      the same claims signed with the published EC key (must be accepted)
//   forged     signed with a key the provider does not publish, under its key id
//   wrong_aud  "aud" names another client (signed with the real key)
//   expired    expired an hour ago (signed with the real key)
//   replay     the nonce of the previous ID token this provider issued
//   rotated    signed with a new key that appears in the key set only now
import Provider from "oidc-provider";
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from "jose";

const [port, redirectUri, postLogoutUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

async function keyPair(alg, kid, opts) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...opts });
  const priv = { ...(await exportJWK(privateKey)), kid, alg, use: "sig" };
  const pub = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { privateKey, priv, pub };
}

const rsa = await keyPair("RS256", "rsa1");
const ec = await keyPair("ES256", "ec1");
const stranger = await keyPair("RS256", "rsa1"); // same kid, never published
const rotated = await keyPair("RS256", "rsa2");  // published once "rotated" is asked for
let published = [rsa.pub, ec.pub];
let nextMode = "";
let lastNonce = "";

const provider = new Provider(issuer, {
  clients: [{
    client_id: "carebridge",
    client_secret: "carebridge-test-secret",
    redirect_uris: redirectUri.split(","),
    post_logout_redirect_uris: postLogoutUri.split(","),
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: { keys: [rsa.priv, ec.priv] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  conformIdTokenClaims: false, // the scopes' claims go in the ID token (as Entra ID optional claims do)
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.nhs.uk`, email_verified: true }),
  }),
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  cookies: { keys: ["carebridge-test-cookie-key"] },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
});

async function resign(idToken, mode) {
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = rsa;
  let alg = "RS256";
  if (mode === "es256") { key = ec; alg = "ES256"; }
  if (mode === "forged") key = stranger;
  if (mode === "wrong_aud") claims.aud = "someone-else";
  if (mode === "expired") { claims.iat = now - 7200; claims.exp = now - 3600; }
  if (mode === "replay") claims.nonce = lastNonce;
  if (mode === "rotated") { key = rotated; published = [...published, rotated.pub]; }
  return new SignJWT(claims).setProtectedHeader({ alg, kid: key.priv.kid, typ: "JWT" }).sign(key.privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === "/__test/next") {
    nextMode = ctx.query.mode || "";
    ctx.body = { mode: nextMode };
    return;
  }
  await next();
  if (ctx.path === "/jwks" && ctx.status === 200) {
    ctx.body = { keys: published };
  }
  if (ctx.path === "/token" && ctx.status === 200 && ctx.body && ctx.body.id_token) {
    const original = ctx.body.id_token;
    const nonce = decodeJwt(original).nonce;
    if (nextMode) {
      ctx.body = { ...ctx.body, id_token: await resign(original, nextMode) };
      nextMode = "";
    }
    lastNonce = nonce;
  }
});

const server = provider.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`listening ${port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
