/**
 * A fictional two-person chat for the insight tests: a few weeks of plans, check-ins, a disagreement
 * and its repair, so that each insight type finds evidence and the statistics have something to say.
 */
const NOOR = "Noor Aziz"
const IVO = "Ivo Marsh"

const lines = [
  `02/05/2024, 08:10 - ${NOOR}: Good morning! Did you sleep well?`,
  `02/05/2024, 08:25 - ${IVO}: Morning, yes finally. How about you?`,
  `02/05/2024, 08:27 - ${NOOR}: Not bad. Are we still on for the climbing gym on Friday?`,
  `02/05/2024, 08:40 - ${IVO}: Yes, let us meet at six by the entrance`,
  `02/05/2024, 08:41 - ${NOOR}: Perfect, I will book the session`,
  `02/05/2024, 21:02 - ${IVO}: Thank you for listening today, it helped a lot`,
  `02/05/2024, 21:05 - ${NOOR}: Always. I am here for you, you know that`,
  `04/05/2024, 18:55 - ${NOOR}: I am at the entrance, where are you?`,
  `04/05/2024, 19:10 - ${IVO}: Sorry for the late reply, the tram was stuck`,
  `04/05/2024, 19:11 - ${NOOR}: No worries, I will warm up first`,
  `04/05/2024, 22:30 - ${IVO}: That was so much fun haha, my arms are dead`,
  `04/05/2024, 22:31 - ${NOOR}: Haha classic, you always say that`,
  `09/05/2024, 12:00 - ${IVO}: Can you pick up the spare key from my neighbour?`,
  `09/05/2024, 12:20 - ${NOOR}: Sure, what time is she home?`,
  `09/05/2024, 12:22 - ${IVO}: After five. Thanks so much`,
  `09/05/2024, 17:40 - ${NOOR}: Got the key, it is on my keyring`,
  `15/05/2024, 20:00 - ${NOOR}: Why did you cancel dinner again? I was really looking forward to it`,
  `15/05/2024, 20:30 - ${IVO}: I know, I am sorry. Work has been overwhelming`,
  `15/05/2024, 20:31 - ${NOOR}: You always say work. I feel like I come last`,
  `15/05/2024, 20:45 - ${IVO}: That is fair. I did not mean to make you feel that way`,
  `15/05/2024, 20:47 - ${IVO}: Let us make up for it, Saturday brunch on me?`,
  `15/05/2024, 20:50 - ${NOOR}: Okay. Thank you for saying that`,
  `18/05/2024, 11:00 - ${IVO}: Brunch was lovely, thank you for giving me another chance`,
  `18/05/2024, 11:05 - ${NOOR}: It was great. Remember when we burnt the pancakes last year?`,
  `18/05/2024, 11:06 - ${IVO}: Haha how could I forget, the smoke alarm concert`,
  `25/05/2024, 09:15 - ${NOOR}: Big news: I got the job in Lisbon!`,
  `25/05/2024, 09:16 - ${IVO}: Congratulations!! So proud of you, amazing news`,
  `25/05/2024, 09:18 - ${NOOR}: Thank you! I hope one day we can live by the sea together`,
  `25/05/2024, 09:20 - ${IVO}: One day we will, I wish it could be next year`,
  `01/06/2024, 07:45 - ${IVO}: How are you doing with the packing?`,
  `01/06/2024, 08:30 - ${NOOR}: Slowly. Boxes everywhere. Did you get home safe last night?`,
  `01/06/2024, 08:31 - ${IVO}: Yes, thinking of you. Send photos of the new flat`,
  `03/06/2024, 19:00 - ${NOOR}: Photos from the flat, the balcony is tiny but sunny`,
  `03/06/2024, 19:02 - ${IVO}: It looks wonderful, what do you think of the neighbourhood?`,
  `03/06/2024, 19:10 - ${NOOR}: Quiet, lots of bakeries. Tell me about your day`,
  `03/06/2024, 19:15 - ${IVO}: Long meetings, but I booked my tickets to visit you in July`
]

export const insightChatFile = {
  name: "WhatsApp Chat with Ivo.txt",
  bytes: new Uint8Array(Buffer.from(lines.join("\n") + "\n", "utf8"))
}

export const insightChatPeople = [NOOR, IVO] as const
