// The playground's single-page app: the authorization code flow with PKCE (RFC 7636, S256)
// for the public client playground-spa, entirely in the browser. The verifier, state and nonce
// wait in sessionStorage during the round trip; the tokens live in this page's memory only.
"use strict";

const config = JSON.parse(document.getElementById("config").textContent);
const FLOW_KEY = "playground-spa-flow";
let tokens = null;

function base64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomValue() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

function show(text, ok) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = "notice " + (ok ? "ok" : "bad");
  status.hidden = false;
}

function claimsOf(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function signIn() {
  const flow = { verifier: randomValue(), state: randomValue(), nonce: randomValue() };
  sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: config.scope,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await s256(flow.verifier),
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

async function finishSignIn(params) {
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || "null");
  sessionStorage.removeItem(FLOW_KEY);
  history.replaceState(null, "", "/spa/");
  if (!flow || params.get("state") !== flow.state) {
    return show("Sign-in refused: the state is not the one this page sent.", false);
  }
  if (params.get("iss") !== config.issuer) {
    return show("Sign-in refused: the response names another issuer (RFC 9207).", false);
  }
  if (params.get("error")) {
    return show("The provider answered " + params.get("error") + ": " + (params.get("error_description") || ""), false);
  }
  let res;
  try {
    res = await fetch(config.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code") || "",
        redirect_uri: config.redirect_uri,
        client_id: config.client_id,
        code_verifier: flow.verifier,
      }),
    });
  } catch (e) {
    return show("The token endpoint could not be reached: " + e, false);
  }
  const body = await res.json();
  if (!res.ok) return show("The token request failed: " + body.error, false);
  // Straight from the token endpoint over TLS (OIDC Core §3.1.3.7 step 6): the claims are
  // read, the nonce compared; the server-side app is the one that verifies signatures.
  const claims = claimsOf(body.id_token);
  if (claims.nonce !== flow.nonce) return show("Sign-in refused: the ID token's nonce differs.", false);
  tokens = body;
  // ms-auth-server's ID tokens carry the profile in userinfo only; the subject is always there.
  const who = claims.name || claims.preferred_username;
  show(who ? "Signed in as " + who + "." : "Signed in (subject " + claims.sub + ").", true);
  document.getElementById("spa-sign-in").hidden = true;
  document.getElementById("spa-call-country").hidden = false;
}

async function callCountry() {
  const result = document.getElementById("result");
  try {
    const res = await fetch(config.country_url, {
      headers: { Authorization: "Bearer " + tokens.access_token },
    });
    result.textContent = "GET /country-service/countries/DE: " + res.status + "\n" +
      JSON.stringify(await res.json(), null, 2);
  } catch (e) {
    result.textContent = "country-service could not be reached: " + e;
  }
  result.hidden = false;
}

document.getElementById("spa-sign-in").addEventListener("click", () => signIn());
document.getElementById("spa-call-country").addEventListener("click", () => callCountry());
const params = new URLSearchParams(location.search);
if (location.pathname === "/spa/callback" && (params.has("code") || params.has("error"))) {
  finishSignIn(params);
}
