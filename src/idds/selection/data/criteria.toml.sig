{
  "algorithm": "Ed25519",
  "key_id": "fd3390b18ca64893",
  "signature": "QqnL6GXQSzKaO+dpBU2mCN/cZzwljvUnJXwshcg9PiMPxnlrMKvRMmHj+0OVkiFhMI6/IWU190lwFkW4a9CgDQ=="
}
