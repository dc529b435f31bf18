"""A ClientApp whose parties misbehave, for the Flower engine's fault tests: client 2's reply of
round 1 is altered after it signed it (in transit), client 3 crashes in round 2."""
from flwr.app import Array
from flwr.clientapp import ClientApp

from fl.run.flower import client_app as honest

app = ClientApp()
app.query()(honest.register)


@app.train()
def train(message, context):
    info = message.content["round"]
    round_, client_id = int(info["round"]), int(info["client-id"])
    if (round_, client_id) == (2, 3):
        raise RuntimeError("client 3 crashed")
    reply = honest.train(message, context)
    if (round_, client_id) == (1, 2):
        update = reply.content["update"]
        name = sorted(update.keys())[0]
        altered = update[name].numpy().copy()
        altered.flat[0] += 1.0
        update[name] = Array(altered)
    return reply
