{
  "algorithm": "Ed25519",
  "key_id": "0e1677fd7d057fc9",
  "signature": "4b67yTKilN+miFHQvqCPjptG0oY6EWJM+AC83bR1xCoWKUeqSuXkNczkhaT5bYwSUJGcGYMqfoEe7DTA0BE/Dw=="
}
