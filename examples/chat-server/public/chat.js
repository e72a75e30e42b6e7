// The demo's browser client: one WebSocket, join a room, send and show messages. The token
// comes from the page's own URL (?token=...), as main.mjs prints it. No inline script, so the
// page works under a strict Content-Security-Policy.
(() => {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') ?? '';
  const me = `browser-${Math.random().toString(36).slice(2, 8)}`;
  const log = document.getElementById('log');
  const state = document.getElementById('state');
  const roomInput = document.getElementById('room');
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

  function connect() {
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      state.textContent = `connected as ${me}`;
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
    const next = roomInput.value;
    if (next === room || ws?.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: 'leave', room }));
    room = next;
    ws.send(JSON.stringify({ type: 'join', room }));
    state.textContent = `connected as ${me}, room ${room}`;
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
  connect();
})();
