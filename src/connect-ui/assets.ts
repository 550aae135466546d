/**
 * The Connect UI's stylesheet and script, served as files of their own by ConnectUiController
 * (/connect/assets/*) so the pages need no inline style or script and the service's CSP stays
 * `script-src 'self'`. Kept as strings here so the build needs no asset copying.
 */

/**
 * Colours meet WCAG AA (4.5:1) on white: text #1f2328 (15.8:1), muted #57606a (6.3:1), primary
 * #0b57d0 with white text (6.6:1), danger #b3261e with white text (6.4:1). Focus is a 3px
 * outline offset from the control, visible on every background. One column, fits 375 px.
 */
export const CONNECT_CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
main{max-width:44rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .25rem;overflow-wrap:anywhere}
.cards{list-style:none;margin:0;padding:0;display:grid;gap:.75rem}
.card{border:1px solid #d0d7de;border-radius:8px;padding:1rem}
.status{font-weight:600;margin:.25rem 0}
.status-needs_reconnect,.status-failing,.problem{color:#a40e26}
.status-syncing{color:#0b57d0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .75rem;margin:.5rem 0}
dt{color:#57606a}dd{margin:0}
.muted,.note{color:#57606a}
.notice:empty{display:none}
.notice{border-left:4px solid #0b57d0;padding:.5rem .75rem;background:#eef4fc}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem}
.actions form{margin:0}
button,.button{font:inherit;display:inline-block;min-height:44px;padding:.5rem 1rem;border-radius:6px;
  border:1px solid #57606a;background:#fff;color:#1f2328;cursor:pointer;text-decoration:none}
button.primary{background:#0b57d0;border-color:#0b57d0;color:#fff}
button.danger{background:#b3261e;border-color:#b3261e;color:#fff}
button:hover{filter:brightness(.92)}
a{color:#0b57d0}
:focus-visible{outline:3px solid #1f2328;outline-offset:3px}
button.primary:focus-visible,button.danger:focus-visible{outline-color:#1f2328;box-shadow:0 0 0 2px #fff inset}
fieldset{border:1px solid #d0d7de;border-radius:6px;margin:.5rem 0;padding:.5rem .75rem}
.choice{display:flex;gap:.5rem;align-items:baseline;padding:.25rem 0}
.choice input{width:1.1rem;height:1.1rem}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:30rem){main{padding:.75rem}.actions{flex-direction:column}.actions form,.actions button,.actions .button{width:100%}}
`;

/**
 * Progressive enhancement only: every action is a plain form that works without it.
 * - /connect: polls GET /connect/state every 2.5 s while something syncs or waits for PDeck and
 *   updates each card's status (an aria-live region); reloads when the set of connections or
 *   what can be done with one changes. Polling rather than SSE: one short JSON read that any API
 *   instance answers, no long-lived connection through proxies, and it stops by itself.
 *   Framed (same-site iframe): consent forms open in a new window, since providers refuse to be
 *   framed; results that window posts back here are relayed to the parent page.
 * - /connect/done: posts the result to the opener on the session's returnTo origin (never '*'),
 *   drops the one-time token from the page and the address bar, then waits until the connection
 *   no longer waits for PDeck and returns to /connect. Without an opener it goes on to returnTo.
 */
export const CONNECT_JS = `
(function () {
  'use strict';
  var POLL_MS = 2500;
  var page = document.body.getAttribute('data-page');
  var framed = window.top !== window.self;

  function getState() {
    return fetch('/connect/state', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) {
        // The session ended: polling cannot succeed any more; the next action shows why.
        if (r.status === 401) return new Promise(function () {});
        if (!r.ok) throw new Error('state ' + r.status);
        return r.json();
      });
  }

  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }

  function timeText(iso, none) {
    if (!iso) return none;
    // The same words as the server writes: one format on the page, whoever wrote the text.
    return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
  }

  var KINDS = [['event', 'event', 'events'], ['task', 'task', 'tasks'], ['message', 'message', 'messages']];
  function countsText(c) {
    var parts = [];
    KINDS.forEach(function (k) { if (c[k[0]] !== undefined) parts.push(c[k[0]] + ' ' + (c[k[0]] === 1 ? k[1] : k[2])); });
    return parts.length ? parts.join(', ') : 'nothing yet';
  }

  // Which actions a card offers depends on these; a move between them needs the server's page.
  function actionsKey(state) { return state === 'syncing' || state === 'connected' ? 'running' : state; }

  function connectPage() {
    if (framed) {
      document.querySelectorAll('form[data-consent]').forEach(function (f) { f.target = '_blank'; });
      window.addEventListener('message', function (e) {
        if (e.origin !== location.origin || !e.data || e.data.type !== 'pdeck-connect:relay') return;
        var target = document.body.getAttribute('data-target-origin');
        if (target) window.parent.postMessage(e.data.message, target);
      });
    }
    var cards = {};
    document.querySelectorAll('[data-connection-id]').forEach(function (el) { cards[el.getAttribute('data-connection-id')] = el; });
    var changing = document.querySelector('[data-state="syncing"], [data-state="awaiting_confirmation"]') !== null;
    if (!changing) return;
    function tick() {
      getState().then(function (state) {
        var ids = state.connections.map(function (c) { return c.id; }).sort().join(',');
        if (ids !== Object.keys(cards).sort().join(',')) { location.reload(); return; }
        var reload = false;
        state.connections.forEach(function (c) {
          var card = cards[c.id];
          if (actionsKey(card.getAttribute('data-state')) !== actionsKey(c.state)) reload = true;
          card.setAttribute('data-state', c.state);
          var status = card.querySelector('[data-field="status"]');
          status.className = 'status status-' + c.state;
          setText(status, c.statusText);
          setText(card.querySelector('[data-field="lastSyncedAt"]'), timeText(c.lastSyncedAt, 'not yet'));
          setText(card.querySelector('[data-field="nextSyncAt"]'), timeText(c.nextSyncAt, c.state === 'connected' || c.state === 'syncing' ? 'not scheduled yet' : '\\u2014'));
          setText(card.querySelector('[data-field="counts"]'), countsText(c.counts));
        });
        if (reload) { location.reload(); return; }
        if (state.changing) setTimeout(tick, POLL_MS);
      }).catch(function () { setTimeout(tick, POLL_MS * 2); });
    }
    setTimeout(tick, POLL_MS);
  }

  function donePage() {
    var data = document.getElementById('handover');
    if (!data) return;
    var kind = data.getAttribute('data-kind');
    var targetOrigin = data.getAttribute('data-target-origin');
    var continueUrl = data.getAttribute('data-continue-url');
    var connectionId = data.getAttribute('data-connection-id');
    var message = kind === 'result'
      ? { type: 'pdeck-connect:result', connectionId: connectionId, confirm: data.getAttribute('data-confirm'), provider: data.getAttribute('data-provider') }
      : { type: 'pdeck-connect:error', error: data.getAttribute('data-error') };
    var status = document.getElementById('done-status');
    var opener = window.opener && !window.opener.closed ? window.opener : null;
    if (!opener) { location.replace(continueUrl); return; }
    // The one-time token leaves the page and the address bar as soon as it is handed over.
    data.parentNode.removeChild(data);
    var link = document.getElementById('continue');
    if (link) link.parentNode.removeChild(link);
    history.replaceState(null, '', '/connect/done');
    opener.postMessage(message, targetOrigin);
    try {
      // Opened from the Connect UI itself (framed in PDeck): that page relays to its parent.
      if (opener.location.origin === location.origin) opener.postMessage({ type: 'pdeck-connect:relay', message: message }, location.origin);
    } catch (e) { /* a cross-origin opener: reading its location is refused, as expected */ }
    message = null;
    if (kind !== 'result') {
      setText(status, status.textContent.replace('Handing this to PDeck\\u2026', 'PDeck was told.'));
      return;
    }
    setText(status, 'Waiting for PDeck to confirm the connection\\u2026');
    function tick() {
      getState().then(function (state) {
        var c = state.connections.filter(function (x) { return x.id === connectionId; })[0];
        if (!c || !c.awaitingConfirmation) { location.replace('/connect'); return; }
        setTimeout(tick, 2000);
      }).catch(function () { setTimeout(tick, 4000); });
    }
    setTimeout(tick, 1000);
  }

  if (page === 'connect') connectPage();
  if (page === 'done') donePage();
})();
`;
