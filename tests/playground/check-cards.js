// Microsoft's Adaptive Cards parser over cards given one JSON object a line on stdin: for each card,
// one line out with the parser's complaints (an empty list when it takes the card as it is).
const AC = require("adaptivecards/dist/adaptivecards.js");
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((line) => line.trim());
for (const line of lines) {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(JSON.parse(line), context);
  const errors = [];
  for (let i = 0; i < context.eventCount; i++) errors.push(context.getEventAt(i).message);
  for (const event of card.validateProperties().validationEvents || []) errors.push(event.message);
  console.log(JSON.stringify(errors));
}
