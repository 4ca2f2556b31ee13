// socket.io 4 baseline: the same wire-level work as SupportGrid for the chat and broadcast scenarios, with rooms and
// nothing behind them but a few maps in memory. Namespaces /customer and /agent stand for the two hubs; a message is
// relayed to the peer through a room; a navigation goes to the room of the channel's customers.
// Usage: PORT=5092 node server.js   (listens on 127.0.0.1 only; prints "listening <port>" when ready)
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');

const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

const waiting = new Map();        // sessionId -> customer socket
const channelBySession = new Map(); // sessionId -> channel
const channels = new Map();       // channelId -> { id, seq }
const available = [];             // agent sockets
let next = 0;

const channel = (id) => {
  let c = channels.get(id);
  if (!c) channels.set(id, (c = { id, seq: 0 }));
  return c;
};

io.of('/customer').on('connection', (socket) => {
  let sessionId = null;
  socket.on('startChat', (request, ack) => {
    sessionId = crypto.randomUUID();
    waiting.set(sessionId, socket);
    if (available.length > 0) available[next++ % available.length].emit('offer', { sessionId, queue: `${request.site}/${request.queue}` });
    ack({ sessionId, resumeToken: sessionId, position: 1 });
  });
  socket.on('message', (text, ack) => {
    const c = sessionId && channelBySession.get(sessionId);
    if (!c) return ack({ error: 'invalid_state: no agent has joined.' });
    const evt = { seq: ++c.seq, type: 'message', from: { role: 'customer', name: 'Customer' }, text, at: new Date().toISOString() };
    io.of('/agent').to(`a:${c.id}`).emit('message', c.id, evt);
    ack({ seq: evt.seq });
  });
  socket.on('join', (channelId, ack) => { socket.join(`c:${channelId}`); ack({}); });
  const end = () => {
    if (!sessionId) return;
    waiting.delete(sessionId);
    const c = channelBySession.get(sessionId);
    if (c) channels.delete(c.id);
    channelBySession.delete(sessionId);
  };
  socket.on('endChat', (ack) => { end(); ack({}); });
  socket.on('disconnect', end);
});

io.of('/agent').on('connection', (socket) => {
  const from = { role: 'agent', name: 'Raw agent' };
  socket.on('available', (ack) => { if (!available.includes(socket)) available.push(socket); ack({}); });
  socket.on('acceptOffer', (sessionId, ack) => {
    const customer = waiting.get(sessionId);
    if (!customer) return ack({ error: 'offer_not_found: the customer left.' });
    waiting.delete(sessionId);
    const c = channel(crypto.randomUUID());
    channelBySession.set(sessionId, c);
    socket.join(`a:${c.id}`);
    customer.join(`c:${c.id}`);
    customer.emit('agentJoined', from.name);
    ack({ channelId: c.id, sessionId });
  });
  socket.on('message', (channelId, text, ack) => {
    const c = channel(channelId);
    const evt = { seq: ++c.seq, type: 'message', from, text, at: new Date().toISOString() };
    io.of('/customer').to(`c:${channelId}`).emit('message', evt);
    ack({ seq: evt.seq });
  });
  socket.on('navigate', (channelId, url, ack) => {
    const c = channel(channelId);
    io.of('/customer').to(`c:${channelId}`).emit('navigate', { url, seq: ++c.seq, follow: true });
    ack({ seq: c.seq });
  });
  socket.on('endChat', (channelId, ack) => { channels.delete(channelId); ack({}); });
  socket.on('disconnect', () => { const i = available.indexOf(socket); if (i >= 0) available.splice(i, 1); });
});

const port = Number(process.env.PORT ?? 5092);
httpServer.listen(port, '127.0.0.1', () => console.log(`listening ${httpServer.address().port}`));
