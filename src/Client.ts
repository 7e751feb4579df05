/**
 * A typed client of the Chatsight API, derived from the contract alone: importing it loads no server,
 * database, worker or model code, so an app or a script can use it as it is.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Api } from "./Api.js"

export interface ClientOptions {
  /** Where the API is served, e.g. `http://localhost:8000`; relative to the `HttpClient`'s own base when omitted. */
  readonly baseUrl?: string | undefined
  /** A bearer token sent with every request. */
  readonly token?: string | undefined
}

/** A client with one method per endpoint, grouped as the contract groups them (`client.chats.list(...)`). */
export const makeClient = (options: ClientOptions = {}) =>
  HttpApiClient.make(Api, {
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
    ...(options.token === undefined
      ? {}
      : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(options.token)) })
  })
