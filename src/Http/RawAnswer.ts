/**
 * Answers written straight to a connection, beneath the application: to requests Node's parser refuses
 * (431, 400) or times out (408), and to bodies that stall. Each is the one error body, then the
 * connection is closed, which also ends the handler still waiting for that body.
 */
import { randomUUID } from "node:crypto"
import { maxHeaderSize, ServerResponse, STATUS_CODES } from "node:http"
import type { Duplex } from "node:stream"
import {
  type ApiError,
  errorBody,
  HeadersTooLarge,
  PayloadTooLarge,
  RequestTimeout,
  statusOf,
  ValidationError
} from "../Domain/Errors.js"

/** The response being written on `socket`, if the parser got as far as one (Node keeps it there). */
export const inFlightResponse = (socket: Duplex): ServerResponse | undefined =>
  "_httpMessage" in socket && socket._httpMessage instanceof ServerResponse ? socket._httpMessage : undefined

/** The request id the edge put on `response`, or a new one when the request never reached it. */
export const requestIdOf = (response: ServerResponse | undefined): string => {
  const id = response?.getHeader("x-request-id")
  return typeof id === "string" ? id : randomUUID()
}

/** The refusal of a request Node's parser gave up on, or none for a broken connection (nobody to tell). */
export const parserRefusal = (code: string, requestTimeoutMs: number): ApiError | undefined => {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return new HeadersTooLarge({
        message: `The request line and headers are larger than ${Math.floor(maxHeaderSize / 1024)} KB; ` +
          "shorten the query string or the headers"
      })
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return new PayloadTooLarge({ message: "The chunk extensions of the body are larger than the server reads" })
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new RequestTimeout({ message: `The request did not arrive within ${requestTimeoutMs / 1000} s` })
    default:
      return code.startsWith("HPE_")
        ? new ValidationError({ message: "The request is not valid HTTP/1.1" })
        : undefined
  }
}

const rawResponse = (error: ApiError, requestId: string): string => {
  const status = statusOf(error)
  const body = JSON.stringify(errorBody(error._tag, error.message, requestId))
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    "connection: close",
    "",
    body
  ].join("\r\n")
}

/**
 * Writes `error` on `socket` unless a response has begun there (its bytes would corrupt it), then
 * closes the connection once written, or after a second if the peer does not take the bytes.
 */
export const answerAndClose = (socket: Duplex, response: ServerResponse | undefined, error: ApiError, requestId: string) => {
  if (!socket.writable || response?.headersSent === true) {
    socket.destroy()
    return
  }
  setTimeout(() => socket.destroy(), 1000).unref()
  socket.end(rawResponse(error, requestId), () => socket.destroy())
}
