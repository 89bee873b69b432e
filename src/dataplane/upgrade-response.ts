// The response object a WebSocket upgrade's policy chain answers through. An upgrade request owns its
// raw socket (the HTTP/1.1 engine handed it over), so there is no engine response to write to: this
// adapter takes the few calls the answer paths make (writeHead with flat headers, end, destroy, the
// 'close' event) and writes one HTTP/1.1 answer with `connection: close` on the socket. A chain that
// lets the upgrade through never touches it, and the tunnel takes the socket over.

import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';

const kOwner = Symbol('bulkhead.upgradeResponse');

export class UpgradeAnswer extends EventEmitter {
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  shouldKeepAlive = false;
  sendDate = false;
  private head = '';

  constructor(readonly socket: net.Socket) {
    super();
    (socket as unknown as Record<symbol, UpgradeAnswer>)[kOwner] = this;
    socket.once('close', onSocketClose);
  }

  writeHead(status: number, flat: string[]): this {
    let h = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n`;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i]!.toLowerCase();
      if (name === 'connection') continue;
      h += `${name}: ${flat[i + 1]}\r\n`;
    }
    this.head = h + 'connection: close\r\n\r\n';
    this.headersSent = true;
    return this;
  }

  end(body?: Buffer | string): this {
    if (this.writableEnded || this.socket.destroyed) return this;
    this.writableEnded = true;
    const head = Buffer.from(this.head, 'latin1');
    this.socket.end(body === undefined ? head : Buffer.concat([head, Buffer.from(body)]));
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.socket.destroy();
    return this;
  }
}

function onSocketClose(this: net.Socket): void {
  (this as unknown as Record<symbol, UpgradeAnswer>)[kOwner]?.emit('close');
}
