import type { OAuthAccount } from './oauth2-tokens.js';

export interface ConsentPageModel {
  providerName: string;
  clientName: string;
  requestId: string;
  decisionPath: string;
  scopes: Array<{ scope: string; label?: string }>;
  accounts: OAuthAccount[];
  selected: string;
}

/**
 * The minimal consent screen a person clicks through in a browser during `npm run demo`.
 * One form: pick the seeded account, then Allow or Deny. No script, so it works everywhere.
 */
export function renderConsentPage(m: ConsentPageModel): string {
  const accounts = m.accounts
    .map(
      (a) =>
        `<label class="acct"><input type="radio" name="account" value="${esc(a.email)}"${
          a.email === m.selected ? ' checked' : ''
        }> <b>${esc(a.name)}</b> &lt;${esc(a.email)}&gt;</label>`,
    )
    .join('\n');
  const scopes = m.scopes
    .map(
      (s) =>
        `<li>${s.label ? `${esc(s.label)} <code>${esc(s.scope)}</code>` : `<code>${esc(s.scope)}</code>`}</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - ${esc(m.providerName)} (sandbox)</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#202124}
.box{border:1px solid #dadce0;border-radius:8px;padding:1.5rem}.acct{display:block;margin:.4rem 0}
code{font-size:.8rem;color:#5f6368}button{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem;cursor:pointer}
.allow{background:#1a73e8;color:#fff;border:0;border-radius:4px}.note{color:#5f6368;font-size:.85rem}
</style></head><body><div class="box">
<h1>${esc(m.providerName)} sandbox</h1>
<p><b>${esc(m.clientName)}</b> wants to access your account:</p>
<ul>${scopes}</ul>
<form method="post" action="${esc(m.decisionPath)}">
<input type="hidden" name="request" value="${esc(m.requestId)}">
<fieldset><legend>Choose an account</legend>
${accounts}
</fieldset>
<p><button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p class="note">Offline sandbox: no real ${esc(m.providerName)} account is involved.</p>
</div></body></html>`;
}

export function renderErrorPage(
  providerName: string,
  status: number,
  error: string,
  detail: string,
): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error ${status}: ${esc(error)}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto">
<h1>${esc(providerName)} sandbox: access blocked</h1>
<p><b>Error ${status}: ${esc(error)}</b></p><p>${esc(detail)}</p></body></html>`;
}

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
