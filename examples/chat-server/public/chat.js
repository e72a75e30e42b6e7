// The demo's browser client: one WebSocket, join a room, send and show messages, and the
// server's busiest rooms (GET /rooms/busiest, tidewatch's top-K tracker) with their message
// rates. The page joins the busiest room when there is one, so there is traffic to watch.
// The token comes from the page's own URL (?token=...), as main.mjs prints it. No inline
// script, so the page works under a strict Content-Security-Policy.
(() => {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') ?? '';
  const me = `browser-${Math.random().toString(36).slice(2, 8)}`;
  const log = document.getElementById('log');
  const state = document.getElementById('state');
  const roomInput = document.getElementById('room');
  const busiestRows = document.getElementById('busiest-rows');
  /** How often the busiest rooms are refreshed, and how long the first join waits for traffic. */
  const POLL_MS = 3000;
  const FIRST_WAIT_MS = 3000;
  let room = roomInput.value;
  let seq = 0;
  let ws;
  const shown = [];

  function show(text, mine) {
    const li = document.createElement('li');
    li.textContent = text;
    if (mine) li.className = 'mine';
    log.append(li);
    shown.push(li);
    // Keep the page light next to a busy room.
    if (shown.length > 300) shown.shift().remove();
    log.scrollTop = log.scrollHeight;
  }

  /** The busiest rooms, or null when the server cannot say. */
  async function busiest() {
    try {
      const url = new URL('/rooms/busiest', location.href);
      url.searchParams.set('token', token);
      const res = await fetch(url, { cache: 'no-store' });
      return res.ok ? await res.json() : null;
    } catch {
      return null;
    }
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function render(data) {
    if (!data) return;
    const rows = [];
    for (const r of data.rooms) {
      const tr = document.createElement('tr');
      if (r.room === room) tr.className = 'current';
      const name = document.createElement('td');
      const pick = document.createElement('button');
      pick.type = 'button';
      pick.textContent = r.room;
      pick.title = `join ${r.room}`;
      pick.addEventListener('click', () => switchTo(r.room));
      name.append(pick);
      tr.append(name, cell(r.messagesPerSecond.toFixed(2), 'num'), cell(String(r.members), 'num'));
      rows.push(tr);
    }
    const other = document.createElement('tr');
    other.append(
      cell('all other rooms'),
      cell(data.other.messagesPerSecond.toFixed(2), 'num'),
      cell(String(data.other.members), 'num'),
    );
    rows.push(other);
    busiestRows.replaceChildren(...rows);
  }

  async function poll() {
    render(await busiest());
    setTimeout(poll, POLL_MS);
  }

  function switchTo(next) {
    roomInput.value = next;
    if (next === room || ws?.readyState !== WebSocket.OPEN) {
      room = next;
      return;
    }
    ws.send(JSON.stringify({ type: 'leave', room }));
    room = next;
    ws.send(JSON.stringify({ type: 'join', room }));
    state.textContent = `connected as ${me}, room ${room}`;
    void busiest().then(render);
  }

  function connect() {
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      state.textContent = `connected as ${me}, room ${room}`;
      ws.send(JSON.stringify({ type: 'join', room }));
    });
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type !== 'msg') return;
      const mine = typeof msg.id === 'string' && msg.id.startsWith(`${me}-`);
      // The load generator's messages are padding; show ours in full and theirs briefly.
      show(
        mine
          ? `[${msg.room}] you: ${msg.text}`
          : `[${msg.room}] ${msg.id}: ${msg.text.slice(0, 40)}`,
        mine,
      );
    });
    ws.addEventListener('close', (ev) => {
      state.textContent = `disconnected (${ev.code}); retrying…`;
      setTimeout(connect, 1000 + Math.random() * 2000);
    });
  }

  document.getElementById('join').addEventListener('submit', (ev) => {
    ev.preventDefault();
    switchTo(roomInput.value);
  });
  document.getElementById('send').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = document.getElementById('text');
    if (!input.value || ws?.readyState !== WebSocket.OPEN) return;
    ws.send(
      JSON.stringify({ type: 'msg', room, id: `${me}-${++seq}`, t: Date.now(), text: input.value }),
    );
    input.value = '';
  });

  // Join the busiest room: wait a little for the first traffic, else stay in the default.
  void (async () => {
    const until = Date.now() + FIRST_WAIT_MS;
    let data = await busiest();
    while (data && data.rooms.length === 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      data = await busiest();
    }
    if (data?.rooms.length > 0) {
      room = data.rooms[0].room;
      roomInput.value = room;
    }
    render(data);
    connect();
    setTimeout(poll, POLL_MS);
  })();
})();
