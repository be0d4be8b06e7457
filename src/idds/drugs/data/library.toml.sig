{
  "algorithm": "Ed25519",
  "key_id": "a2e9d67daf7a0256",
  "signature": "UWespKYvzcMLXAfZAaX6+vlEElSLrgD7ppGL99VOsLug6vse7cZNyGJXOdBfV60dc7mtLbo4dMGFmemSVsEmDQ=="
}
