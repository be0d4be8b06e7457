{
  "algorithm": "Ed25519",
  "key_id": "fd3390b18ca64893",
  "signature": "CJYNhXFa8ZRBbvruN9bxCHLZWR8duVzkRvjdpJrJYZz6lYX4M9IjLceAnv/RCVWm5IVFXcHx5GNEduAWcMP9DQ=="
}
