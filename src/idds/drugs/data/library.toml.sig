{
  "algorithm": "Ed25519",
  "key_id": "a2e9d67daf7a0256",
  "signature": "ZhtbsN9rolzfUI7vRxTtEr7gJgVyguULyD1LviXC9o++SO0UEjRgwl8liVtovzt+32MWSaP481gKtbhzJ8XZAA=="
}
