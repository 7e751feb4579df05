/**
 * Runs the Stripe and Razorpay doubles for a local Chatsight (`tsx test/doubles.ts`): start the server with
 * the environment printed here, buy through the checkout pages, and watch each webhook and the server's answer.
 */
import { startRazorpayDouble } from "./support/razorpayDouble.js"
import type { DeliveryOutcome } from "./support/paymentDoubleHttp.js"
import { startStripeDouble } from "./support/stripeDouble.js"

const say = (line: string) => process.stdout.write(`${line}\n`)

const portFrom = (name: string, fallback: number): number => {
  const raw = process.env[name]
  const port = raw === undefined || raw === "" ? fallback : Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${name}=${raw ?? ""} is not a port\n`)
    process.exit(1)
  }
  return port
}

const chatsight = (process.env.CHATSIGHT_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "")
// Fixed test secrets: the server started with them accepts what the doubles sign.
const secrets = {
  stripeKey: "sk_test_double",
  stripeWebhook: "whsec_double",
  razorpayKeyId: "rzp_test_double",
  razorpayKeySecret: "rzp_test_double_secret",
  razorpayWebhook: "rzp_whsec_double"
}
const answer = (outcome: DeliveryOutcome) => ("status" in outcome ? String(outcome.status) : `unreachable (${outcome.error})`)

const stripe = await startStripeDouble({
  webhookSecret: secrets.stripeWebhook,
  webhookUrl: `${chatsight}/api/payments/webhooks/stripe`,
  port: portFrom("STRIPE_DOUBLE_PORT", 12111),
  onDelivery: (event, outcome) => say(`stripe    ${event.type} ${event.id} -> ${answer(outcome)}`)
})
const razorpay = await startRazorpayDouble({
  keyId: secrets.razorpayKeyId,
  keySecret: secrets.razorpayKeySecret,
  webhookSecret: secrets.razorpayWebhook,
  webhookUrl: `${chatsight}/api/payments/webhooks/razorpay`,
  port: portFrom("RAZORPAY_DOUBLE_PORT", 12112),
  onDelivery: (delivery, outcome) => say(`razorpay  ${delivery.event} ${delivery.eventId} -> ${answer(outcome)}`)
})

say(`Stripe double on ${stripe.url}, Razorpay double on ${razorpay.url}; webhooks go to ${chatsight}.`)
say("Start Chatsight with:")
say([
  `STRIPE_SECRET_KEY=${secrets.stripeKey}`,
  `STRIPE_WEBHOOK_SECRET=${secrets.stripeWebhook}`,
  `STRIPE_API_URL=${stripe.url}`,
  `RAZORPAY_KEY_ID=${secrets.razorpayKeyId}`,
  `RAZORPAY_KEY_SECRET=${secrets.razorpayKeySecret}`,
  `RAZORPAY_WEBHOOK_SECRET=${secrets.razorpayWebhook}`,
  `RAZORPAY_API_URL=${razorpay.url}`
].join(" "))
say(`Checkout pages: a Stripe session's url, or ${razorpay.url}/checkout/<order id>. Ctrl-C stops.`)

const stop = () => {
  void Promise.all([stripe.close(), razorpay.close()]).then(() => process.exit(0))
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
