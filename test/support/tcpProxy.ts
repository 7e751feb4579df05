/**
 * A TCP proxy on 127.0.0.1 in front of a database, for tests that take the database away: `stop`
 * cuts every open connection and closes the listener, so that new connections are refused as if the
 * server were down; `start` listens again on the same port, as if it had come back.
 */
import { Effect } from "effect"
import { createConnection, createServer, type Server, type Socket } from "node:net"

export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** Destroys every open connection and stops listening; connecting is then refused. */
  readonly stop: Effect.Effect<void>
  /** Listens again on the same port. */
  readonly start: Effect.Effect<void>
}

const listen = (server: Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once("error", onError)
    server.listen({ host: "127.0.0.1", port }, () => {
      server.off("error", onError)
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : port)
    })
  })

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
  })

/** A proxy to `target` for the life of the scope. */
export const tcpProxy = (target: { readonly host: string; readonly port: number }) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const sockets = new Set<Socket>()
      const track = (socket: Socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        // A peer that goes away takes its partner with it; no error escapes as unhandled.
        socket.on("error", () => socket.destroy())
      }
      const server = createServer((client) => {
        const upstream = createConnection({ host: target.host, port: target.port })
        track(client)
        track(upstream)
        client.on("close", () => upstream.destroy())
        upstream.on("close", () => client.destroy())
        client.pipe(upstream)
        upstream.pipe(client)
      })
      const port = await listen(server, 0)
      const destroyAll = () => {
        for (const socket of sockets) socket.destroy()
        sockets.clear()
      }
      const stop = async () => {
        const closed = close(server)
        destroyAll()
        await closed
      }
      return {
        proxy: {
          host: "127.0.0.1",
          port,
          stop: Effect.promise(stop),
          start: Effect.promise(async () => {
            if (!server.listening) await listen(server, port)
          })
        } satisfies TcpProxy,
        stop
      }
    }),
    ({ stop }) => Effect.promise(stop)
  ).pipe(Effect.map(({ proxy }) => proxy))
