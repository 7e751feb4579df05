-- The product catalogue: insight categories, insight types with their generation prompts, and credit
-- packages with prices in USD (cents) and INR (paise). Run once, inside the migration transaction.
--
-- Every prompt is given (a) exact chat statistics and (b) a sample of messages, each prefixed by its
-- message id, and must answer with a JSON object:
--   {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}],
--    "confidence": "low" | "medium" | "high"}

INSERT INTO categories (id, name, description, icon, sort_order, is_active) VALUES
  ('relationship-dynamics', 'Relationship Dynamics', 'How the people in this chat relate to each other: who leans in, who holds the reins, and how the bond has moved over time.', 'heart', 10, true),
  ('communication-style', 'Communication Style', 'The way each person writes and replies, from pace and message length to questions, emoji and tone.', 'message-circle', 20, true),
  ('personality', 'Personality', 'The traits, values and roles each person shows through the way they talk in this chat.', 'user', 30, true),
  ('conflict-and-repair', 'Conflict and Repair', 'What sparks friction between you, how disagreements unfold and how you find your way back to each other.', 'handshake', 40, true),
  ('emotional-support', 'Emotional Support', 'How people in this chat show up for each other in hard moments, good news and everyday check-ins.', 'life-buoy', 50, true),
  ('humour-and-playfulness', 'Humour and Playfulness', 'The jokes, teasing and running gags that give this chat its particular sense of fun.', 'smile', 60, true),
  ('shared-life-and-plans', 'Shared Life and Plans', 'The plans, logistics, memories and hopes that tie your everyday lives together.', 'calendar', 70, true);

INSERT INTO insight_types (id, category_id, name, description, credit_cost, prompt, sort_order, is_active) VALUES
  ('who-reaches-out', 'relationship-dynamics', 'Who Reaches Out',
   'See who tends to start conversations and who keeps them going, and whether that balance shifts over time.',
   2,
   $prompt$Analyse who initiates contact in this chat and who sustains it. Use the statistics on conversation starters, message counts and reply times, and look in the sample for openers after a quiet spell, follow-ups when a message goes unanswered, and who closes conversations. Describe whether initiative is shared or leans to one person, and whether that changes over the period covered. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('power-balance', 'relationship-dynamics', 'Power Balance',
   'Understand whose topics, decisions and moods tend to steer the conversation, and how evenly that influence is shared.',
   3,
   $prompt$Analyse how influence is shared in this chat: whose topics get picked up and whose are dropped, who makes or finalises decisions, who sets the emotional tone, and who adapts to whom. Look for moments where one person defers, insists, or changes course after the other responds. Present this as a description of give and take, not a verdict on who is right or in charge. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('reciprocity', 'relationship-dynamics', 'Give and Take',
   'A look at whether interest, effort and attention flow both ways: questions asked, replies matched and news shared.',
   2,
   $prompt$Analyse reciprocity in this chat: whether questions are returned, whether effort in message length and detail is matched, whether both people share news about themselves and show interest in the other. Use the statistics on message counts, lengths and reply times alongside examples from the sample. Highlight both balanced moments and places where one side seems to carry more. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('closeness-over-time', 'relationship-dynamics', 'Closeness Over Time',
   'Trace how your connection has grown, cooled or changed shape across the whole history of the chat.',
   5,
   $prompt$Trace how the closeness between participants changes across the period the chat covers. Use the statistics on activity per month or period, reply times and message volume, and compare early and later messages in the sample for warmth, openness, shared references and the topics discussed. Identify distinct phases and the moments that seem to mark a shift, without guessing at events the chat does not show. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true),

  ('response-rhythm', 'communication-style', 'Response Rhythm',
   'When each person is most active and how quickly replies come, drawn straight from the chat''s numbers.',
   1,
   $prompt$Describe the rhythm of this chat: when each participant is most active by hour and weekday, how quickly each typically replies, and how conversations are spread out over time. Base this mainly on the statistics provided, using sample messages only to illustrate patterns such as late-night exchanges or rapid back-and-forth bursts. Do not read motives into slow or fast replies. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('message-style', 'communication-style', 'Message Style',
   'How each person writes: short bursts or long paragraphs, emoji and media, formal or casual, voice or text.',
   2,
   $prompt$Compare how each participant writes: typical message length, bursts of several short messages versus single long ones, use of emoji, media and links, punctuation, formality and the language or slang they use. Use the statistics for every figure and the sample messages for illustration. Note where styles match, where they differ, and how the differences might simply reflect personal habit. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('questions-and-curiosity', 'communication-style', 'Questions and Curiosity',
   'Who asks questions, who follows up, and how much curiosity each person shows about the other''s life.',
   2,
   $prompt$Analyse curiosity in this chat: who asks questions, what kinds (practical, personal, follow-up), whether questions get answered, and whether people return to something the other mentioned earlier. Use the statistics for any counts of questions or replies and the sample for examples. Point out warm moments of genuine interest as well as questions that went unanswered. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('what-goes-unsaid', 'communication-style', 'What Goes Unsaid',
   'Spot topics that get brushed aside, short replies to big messages, and subjects the chat seems to step around.',
   4,
   $prompt$Look for gaps in this chat: messages that received a much shorter or lighter reply than their weight suggests, subjects that are raised and then dropped, changes of topic after something personal, and questions left unanswered. Describe only what is visible in the sample and statistics, and offer gentle, non-judgemental readings with alternatives, since people often reply elsewhere, in person or later. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true),

  ('personality-snapshot', 'personality', 'Personality Snapshot',
   'A warm portrait of how each person comes across in this chat: their energy, warmth, curiosity and quirks.',
   3,
   $prompt$Write a portrait of how each participant comes across in this chat: energy, warmth, curiosity, directness, patience, humour and recurring quirks of expression. Base every trait on observable behaviour in the sample and the statistics. Do not use personality-type labels, psychological terms or scores, and make clear that a chat shows only one side of a person. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('ways-of-showing-care', 'personality', 'Ways of Showing Care',
   'How each person expresses affection and appreciation: kind words, practical help, time, small gestures.',
   3,
   $prompt$Identify how each participant shows care in this chat: words of appreciation or affection, practical help and favours, making time or plans, small gifts or shared links, remembering details, and checking in. Describe each person's most visible ways of caring and whether the others seem to notice and return them. Treat different styles as equally valid. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('values-and-priorities', 'personality', 'Values and Priorities',
   'What each person seems to care about most, judging by what they talk about, protect and make time for.',
   4,
   $prompt$Infer what each participant seems to value, judging by what they return to, make time for, defend, celebrate or worry about: for example family, work, health, fairness, fun or independence. Keep inferences modest and tie each one to specific messages. Note shared values and places where priorities differ, without ranking them. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('chat-roles', 'personality', 'Chat Roles',
   'The part each person tends to play here, such as organiser, joker, listener, peacemaker or news-bringer.',
   2,
   $prompt$Describe the informal roles participants tend to play in this chat, such as organiser, joker, listener, peacemaker, news-bringer, planner or cheerleader. Use the statistics for participation levels and the sample for examples of each role in action. A person may have several roles or shift roles over time; say so when the evidence shows it. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true),

  ('conflict-triggers', 'conflict-and-repair', 'Conflict Triggers',
   'The topics and situations that most often lead to tension, and the early signs that things are getting heated.',
   3,
   $prompt$Identify the topics and situations that tend to precede tension in this chat, such as plans changing, slow replies, money, family or workload, and the early signals that an exchange is becoming tense, such as shorter replies, sharper punctuation or a change in tone. Describe these patterns even-handedly and avoid assigning blame to any participant. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('disagreement-styles', 'conflict-and-repair', 'Disagreement Styles',
   'How each person handles a difference of opinion: pressing the point, going quiet, joking or seeking middle ground.',
   3,
   $prompt$Describe how each participant handles disagreement: stating their view directly, asking questions, going quiet, using humour, conceding, or looking for a compromise. Note how these styles interact, for example one pursuing while the other withdraws. Use only exchanges in the sample, and present every style as understandable with its own strengths and costs. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('repair-attempts', 'conflict-and-repair', 'Repair Attempts',
   'How you find your way back after friction: apologies, humour, check-ins, and which ones seem to land.',
   4,
   $prompt$Find moments after tension or friction and analyse how participants try to reconnect: apologies, explanations, humour, affection, practical gestures, or simply moving on. Describe which attempts appear to be received well, judging by the replies that follow, and how long it takes for the tone to recover. Celebrate successful repairs and describe missed ones gently. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('unresolved-threads', 'conflict-and-repair', 'Unresolved Threads',
   'Disagreements and sore points that come up more than once without ever quite being settled.',
   5,
   $prompt$Identify disagreements or sensitive subjects that recur in this chat without a clear resolution. For each, show where it appears, how each person's position is expressed, and how the exchange ends each time. Do not decide who is right, and acknowledge that matters may have been resolved outside the chat. Suggest, softly, what seems to remain open. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true),

  ('support-in-hard-times', 'emotional-support', 'Support in Hard Times',
   'How people respond when someone shares stress, sadness or bad news, and what kinds of support they offer.',
   4,
   $prompt$Find moments where a participant shares stress, sadness, worry or bad news, and analyse how others respond: comfort, advice, practical help, humour, or changing the subject, and how quickly. Note which responses seem to be welcomed, judging by the replies that follow. Handle sensitive content gently and do not speculate about anyone's mental health. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('celebrating-wins', 'emotional-support', 'Celebrating Wins',
   'How good news is received in this chat: who cheers loudest and how excitement gets shared.',
   2,
   $prompt$Find moments where a participant shares good news, achievements or excitement, and analyse how the others respond: enthusiasm, questions, congratulations, emoji or muted replies. Describe who tends to celebrate whom and how fully. Keep the tone positive and appreciative while still noting, kindly, any wins that went unacknowledged. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('emotional-openness', 'emotional-support', 'Emotional Openness',
   'How freely each person names their feelings, and how that openness is met by the others.',
   3,
   $prompt$Analyse how openly each participant expresses feelings in this chat: naming emotions, sharing worries or affection, or keeping things factual. Look at how such openness is met by the others and whether it becomes more or less common over the period covered. Treat reserved and expressive styles as equally valid, and make no claims about anyone's inner state beyond what they wrote. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('check-ins', 'emotional-support', 'Check-ins',
   'Who checks on whom, how often, and what those little "how are you doing?" moments look like.',
   2,
   $prompt$Identify check-ins in this chat: messages asking how someone is, following up on something they mentioned, or reaching out after a difficult day. Describe who checks on whom, how often relative to the statistics on activity, and how these messages are answered. Highlight caring habits and note, kindly, where check-ins flow mostly one way. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true),

  ('inside-jokes', 'humour-and-playfulness', 'Inside Jokes',
   'The running gags, nicknames and shared references that only make sense to the people in this chat.',
   2,
   $prompt$Find the recurring jokes, nicknames, catchphrases and shared references in this chat. For each, show where it first appears in the sample, where it returns, and who keeps it alive. Explain the apparent meaning only as far as the messages reveal it, and do not guess at an origin the chat does not show. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('humour-styles', 'humour-and-playfulness', 'Humour Styles',
   'What makes each person funny: wordplay, teasing, memes, absurdity or perfectly timed emoji.',
   2,
   $prompt$Describe each participant's sense of humour as it shows in this chat: wordplay, teasing, sarcasm, absurdity, storytelling, memes, stickers or emoji. Use the statistics for media and emoji counts and the sample for examples. Note who laughs at whose jokes and where humour styles click or clash. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('teasing-balance', 'humour-and-playfulness', 'Teasing Balance',
   'Whether playful teasing goes both ways and lands well, or sometimes misses the mark.',
   3,
   $prompt$Analyse playful teasing in this chat: who teases whom, whether it goes both ways, and how it is received, judging by the replies that follow, such as laughter, teasing back, silence or a change in tone. Point out moments where teasing clearly lands well and, gently, any where it may have missed. Do not moralise about humour that everyone appears to enjoy. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('lightening-the-mood', 'humour-and-playfulness', 'Lightening the Mood',
   'When and how humour is used to ease tension, cheer someone up or change the subject.',
   2,
   $prompt$Find moments where humour is used to shift the mood of this chat: easing tension, cheering someone up, breaking a silence or steering away from a topic. Describe who tends to do this, how the others respond, and whether the humour helps the conversation move forward or sidesteps something that was raised. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true),

  ('plans-and-follow-through', 'shared-life-and-plans', 'Plans and Follow-through',
   'Which plans get made, who drives them, and how often talk turns into something that actually happens.',
   3,
   $prompt$Identify plans made in this chat, such as meet-ups, trips, calls and tasks. For each, note who proposed it, who confirmed or adjusted it, and whether later messages show it happened, was rescheduled or faded away. Summarise who tends to drive plans and how reliably they come together, without treating cancelled plans as failures of character. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   10, true),

  ('everyday-logistics', 'shared-life-and-plans', 'Everyday Logistics',
   'Who handles the coordination, reminders and errands that keep shared life running.',
   2,
   $prompt$Analyse the practical side of this chat: coordinating times and places, reminders, errands, payments, bookings and household or work tasks. Describe who takes on which kinds of logistics, how requests are made and answered, and whether the load appears shared or concentrated. Acknowledge the often invisible effort of organising. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   20, true),

  ('shared-memories', 'shared-life-and-plans', 'Shared Memories',
   'The highlights of your story together: milestones, trips, big days and moments worth remembering.',
   2,
   $prompt$Pick out the highlights of the shared story this chat records: milestones, trips, celebrations, big announcements and memorable everyday moments. Present them in order, using the dates from the statistics or the messages themselves, and say briefly why each stands out in the conversation. Include only events that the messages actually mention. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   30, true),

  ('hopes-and-future', 'shared-life-and-plans', 'Hopes and Future',
   'What you talk about wanting for the future, together and apart, and where your hopes line up.',
   4,
   $prompt$Analyse how participants talk about the future: hopes, goals, dreams, worries, and plans for months or years ahead, together and individually. Note where hopes align, where they differ, and how each person responds to the other's ambitions. Keep interpretations modest, and do not predict the future of the relationship. You will receive (a) exact statistics for this chat and (b) a sample of its messages, each prefixed by its message id. Every claim must cite the ids of the messages it rests on. Do not invent messages, quotes or numbers: quote only text that appears in the sample, and take every number from the statistics given. Use balanced, kind, non-clinical language; describe patterns, never diagnose or label anyone, and treat every participant fairly. Respond with only a JSON object: {"summary": string, "findings": [{"title": string, "detail": string, "message_ids": [number]}], "confidence": "low" | "medium" | "high"}, lowering confidence when the sample is small or the evidence is thin.$prompt$,
   40, true);

INSERT INTO credit_packages (id, name, description, credits, sort_order, is_active) VALUES
  ('starter', 'Starter', '10 credits to try a few insights on one chat.', 10, 10, true),
  ('popular', 'Popular', '30 credits: enough for a full set of insights on a chat or two.', 30, 20, true),
  ('best-value', 'Best Value', '75 credits at a lower price per credit, for exploring several chats.', 75, 30, true),
  ('power', 'Power', '200 credits at our lowest price per credit, for families, groups and regulars.', 200, 40, true);

-- Volume discount per credit. USD: 49.90, 39.97, 33.32, 30.00 cents; INR: 39.90, 33.30, 26.65, 24.00 rupees.
INSERT INTO credit_package_prices (package_id, currency, unit_amount) VALUES
  ('starter', 'USD', 499),
  ('starter', 'INR', 39900),
  ('popular', 'USD', 1199),
  ('popular', 'INR', 99900),
  ('best-value', 'USD', 2499),
  ('best-value', 'INR', 199900),
  ('power', 'USD', 5999),
  ('power', 'INR', 479900);
