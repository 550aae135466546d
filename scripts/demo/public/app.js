// PDeck (demo): opens the integration service's Connect UI in a popup, hands the grant the popup
// posts back to this page's backend for confirmation, and shows the user's items, the merged
// view and the connections as the backend reads them from the service. No token ever reaches this page.
const serviceOrigin = document.querySelector('meta[name="pdeck-service-origin"]').content;
const statusLine = document.getElementById('status');
const POLL_MS = 2000;
/** A confirmed connection waiting for its site choice in the popup: its notice changes once chosen. */
let awaitingSite;

function say(text) {
  statusLine.textContent = text;
}

/**
 * A provider's name from its id ("google-calendar" -> "Google Calendar"): the page keeps no list
 * of providers, so an integration added as a plugin shows without a change here.
 */
function providerName(id) {
  return String(id)
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
  return answer;
}

// Manage integrations: the popup is opened in the click itself (a popup opened after an await
// can be blocked), then sent to the one-time link the backend asked the service for.
document.getElementById('manage').addEventListener('click', async () => {
  const popup = window.open('', 'pdeck-connect', 'popup,width=560,height=760');
  say('Opening your integrations…');
  try {
    const { url } = await postJson('/connect-session');
    if (popup) popup.location.href = url;
    else window.location.href = url; // popups blocked: the page itself goes, and comes back
    say('Manage your integrations in the window that opened.');
  } catch (error) {
    popup?.close();
    say(`Could not open your integrations: ${error.message}`);
  }
});

// Results of connecting, posted by the Connect UI (the service's origin) to this page only.
window.addEventListener('message', async (event) => {
  if (event.origin !== serviceOrigin) return;
  const data = event.data;
  if (!data || typeof data !== 'object') return;
  if (data.type === 'pdeck-connect:error') {
    say(`Not connected: ${typeof data.error === 'string' ? data.error : 'unknown error'}.`);
    return;
  }
  if (data.type !== 'pdeck-connect:result') return;
  if (typeof data.connectionId !== 'string' || typeof data.confirm !== 'string') return;
  say(`Confirming your ${providerName(data.provider)} account…`);
  try {
    const answer = await postJson('/confirm', {
      connectionId: data.connectionId,
      confirm: data.confirm,
    });
    if (!answer.confirmed) {
      say(`PDeck did not confirm that account (${answer.status} ${answer.error ?? ''}).`);
    } else if (answer.connection.pendingReason === 'site_required') {
      awaitingSite = answer.connection.id;
      say(
        `${providerName(answer.connection.provider)} ${answer.connection.accountLabel} is connected: choose its site in the integrations window.`,
      );
    } else {
      say(
        `${providerName(answer.connection.provider)} ${answer.connection.accountLabel} is connected; its first sync has started.`,
      );
    }
  } catch (error) {
    say(`Confirmation failed: ${error.message}`);
  }
  void refresh();
});

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const STATUS_WORDS = {
  active: 'connected',
  pending: 'waiting',
  needs_reauth: 'needs reconnecting',
  error: 'needs attention',
  disconnected: 'disconnected',
};

function renderConnections(connections) {
  const list = document.getElementById('connections');
  const shown = connections.filter((c) => c.status !== 'disconnected');
  const chosen = shown.find((c) => c.id === awaitingSite && c.status === 'active');
  if (chosen) {
    awaitingSite = undefined;
    say(
      `${providerName(chosen.provider)} ${chosen.accountLabel ?? ''}: site chosen; its first sync has started.`,
    );
  }
  list.replaceChildren(
    ...shown.map((c) => {
      const item = element('li');
      item.dataset.connectionId = c.id;
      item.dataset.provider = c.provider;
      item.dataset.status = c.status;
      item.append(
        element('strong', '', providerName(c.provider)),
        element('span', '', c.accountLabel ?? ''),
      );
      const words =
        c.pendingReason === 'site_required'
          ? 'choose a site'
          : (STATUS_WORDS[c.status] ?? c.status);
      item.append(element('span', `badge ${c.status}`, words));
      return item;
    }),
  );
  document.getElementById('no-connections').hidden = shown.length > 0;
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

function timeText(iso, allDay) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : (allDay ? DAY : TIME).format(date);
}

function renderItems(id, items, total) {
  const list = document.getElementById(id);
  document.getElementById(`${id}-count`).textContent = `(${total})`;
  if (items.length === 0) {
    list.replaceChildren(element('li', 'empty', 'Nothing yet.'));
    return;
  }
  list.replaceChildren(
    ...items.map((i) => {
      const item = element('li');
      item.dataset.provider = i.provider;
      item.append(element('span', 'title', i.title));
      const source = [providerName(i.provider), i.container, i.author].filter(Boolean).join(' · ');
      const meta = element('span', 'meta', source);
      const when = timeText(i.time, i.allDay);
      if (when) {
        const time = element('time', '', when);
        time.dateTime = i.time;
        meta.append(' · ', time);
      }
      item.append(meta);
      return item;
    }),
  );
}

/** One value of a merged entry with its source: "Jira · system of record for tasks (jira)". */
function provenanceRow(label, field, text) {
  const row = element('div', 'row');
  const value = element('dd', '', text);
  value.append(element('span', 'why', ` from ${providerName(field.provider)}: ${field.reason}`));
  row.append(element('dt', '', label), value);
  return row;
}

function renderMerged(entries, total) {
  const list = document.getElementById('merged');
  document.getElementById('merged-count').textContent = `(${total})`;
  if (entries.length === 0) {
    list.replaceChildren(element('li', 'empty', 'Nothing found in more than one source yet.'));
    return;
  }
  list.replaceChildren(
    ...entries.map((e) => {
      const item = element('li');
      item.dataset.entryId = e.id;
      item.dataset.sources = String(e.sources.length);
      item.append(element('span', 'title', e.title?.value || '(untitled)'));
      const sources = element('ul', 'sources');
      sources.setAttribute('aria-label', 'Sources');
      for (const s of e.sources) {
        const badge = element('li', 'badge source', providerName(s.provider));
        badge.dataset.provider = s.provider;
        sources.append(badge);
      }
      item.append(sources);
      const facts = element('dl', 'provenance');
      if (e.title) facts.append(provenanceRow('Title', e.title, ''));
      if (e.status) facts.append(provenanceRow('Status', e.status, e.status.value));
      if (e.dueAt) facts.append(provenanceRow('Due', e.dueAt, timeText(e.dueAt.value, false)));
      if (e.startsAt) {
        facts.append(provenanceRow('Starts', e.startsAt, timeText(e.startsAt.value, e.allDay)));
      }
      item.append(facts);
      if (e.conflicts.length > 0) {
        item.append(element('p', 'conflict', `Sources disagree on ${e.conflicts.join(', ')}.`));
      }
      return item;
    }),
  );
}

const feedProblem = document.getElementById('feed-problem');

async function refresh() {
  try {
    const [connections, feed, merged] = await Promise.all(
      ['/connections', '/items', '/merged'].map(async (path) => {
        const response = await fetch(path);
        if (!response.ok) throw new Error(`${path} answered ${response.status}`);
        return response.json();
      }),
    );
    renderConnections(connections);
    renderItems('events', feed.events, feed.counts.events);
    renderItems('tasks', feed.tasks, feed.counts.tasks);
    renderItems('messages', feed.messages, feed.counts.messages);
    renderMerged(merged.entries, merged.count);
    feedProblem.hidden = true;
  } catch (error) {
    feedProblem.textContent = `The feed could not be read: ${error.message}`;
    feedProblem.hidden = false;
  }
}

void refresh();
setInterval(() => void refresh(), POLL_MS);
