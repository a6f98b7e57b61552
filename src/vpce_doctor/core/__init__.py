"""The ground floor: types every layer stands on (the report model, addresses and the
network allow-list, settings). Imports nothing else from vpce_doctor, so checks/, agent/,
tui/, demo/ and lab/ all read bottom-up."""
