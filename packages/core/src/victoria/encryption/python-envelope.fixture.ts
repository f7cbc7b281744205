/**
 * Test data made by Python's `cryptography` (the library the Python Victoria used), not by this code:
 * a throwaway RSA-2048 key, and an envelope made the way victoria.encryption did it (AESGCM with a
 * random 32-byte key and 12-byte nonce, the key wrapped with RSA-OAEP, MGF1-SHA-256 + SHA-256,
 * fields base64.b64encode'd). The version is the key's fingerprint, SHA-256 of its SPKI DER, 32 hex.
 */
export const PYTHON_KEY_PEM = [
  "-----BEGIN PRIVATE KEY-----",
  "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCiIvYiwUeFudyP",
  "jEgXjbY34Ep/6p9gE1jHR1o3V1BnwrTeutWZ6DuiEYgcu4+J+d836skvhkJKzNHq",
  "uvujYqOqPE67bP8U39kLJUaVavB0idNsxY+S7aF3KtbsZo60Ui5Ydrt9gGOa9Cmd",
  "QhJPVAuYwURjPplvgkb5UA1/5WP63jLdrK3pnAgIG8vkeLkMZivGeszjUjnzyl1s",
  "65jok6Wj/zvmiIOVvIhE2e9xgKqWO+799q+opIm53Njt8OiwufTurIc+CxjrQaf3",
  "CecSkUNNwn+ElFMj0Cubru8cw+bRBrO93fMFq9ccnuIYI7SL2WqZHtZNl/cEQmig",
  "uN/8Rii7AgMBAAECggEADBIMPvQirfrzR6CK8W30Zd6FzVYbPVzTXCqctcgDTWY6",
  "buZ75nRalCs39eOkwQHgM1qAVdBp+QWcjxwShcxfINpShjOMHfK4RtMkmRUYB6UH",
  "H27pzGdygNuomnrcHuKLXrygIqy/PZb1ziZQFKXOIzYoMDdF1v5c6EykZKQgOFna",
  "G7nRqOpVWwCWjxgLWagYtyIWX3LzlHGWYKGQh8lEFOo6zXYon9rNE8G2qRzw4wAY",
  "BWDjfwAsySZnm4gttZ8wBsdMKrXbUQqt1IvnKSVJiCEx5lK2+MU82t0hmcrylxc3",
  "UrffpiofkyHP2VsiG2/1ZL+7Vkj0HntDyuG84SUTWQKBgQDM+DkHalhmS14e31Tu",
  "T9R9YusnQjxCJo3wVBXE/2dJjTKGScVwlyGaOKRbcU63NvQhhp5T+zB0w/P6qx2J",
  "iHG8Ye9KfRhd6h4fkkc86xP+Dnj5uu/cHD92fqAZD2wp7XZvdu0arcPNAiDyhxj2",
  "D9NsGuu5hTx3ddTqqO+JaUWf1wKBgQDKgMQeZ4xXNmvYli/jn3o1K/QZnJveiwKq",
  "lIJx4P+pk9Gam0t9t6TMOldYxYCaVYWp0H77gZshbmw2d06BbjrOnXXGv7AKPTeH",
  "zfnuQekc4Edeq6ZkEAB83E+cp3hanGy5FAjo0R+eXqE/u0fzthqfpJnX/nBBTewW",
  "VRo05RExvQKBgDxkjvkeXnmVj1/tUer93pArSzpAC9052uyK+fcXgelsDwz+Q4yP",
  "GzmDovnGgvj82iXeslvwUTC2Y/bh4EwbxddJy+XYwgs55jJLOW47naJnxUFf0Ti7",
  "of9aA/YeUzJvY0wocGhB9sU68VZEdBhcRWE+9WGuXkickWWq7RlByV/1AoGARHKR",
  "19UYUsJKYcMiHMZjAGYC9EVDSk2icRYRoXxz7lXQm3myYqQYSA/QRmk7tu8BZwza",
  "XxjH3tz8Jszc9FLV/dCrZqqUTmGyy2yL9kTBDsmgVhee/mOKRqoRHtpcjAQjm8tx",
  "14AYN+e0iV48S9xZ02xHtAKE3w3/puzNFuP2k+ECgYBzQD5LlKXQYPiL8hP6r9Xe",
  "8qdxk6ySYmHB6UnYdAiiC+Jh/cw6GrSa/SOb1WkKd6IE3tjNwT8oattEQazVwS64",
  "vk8u1Y1KmMuoIA6WEX/+l968LpJgUZv/jkWVO4YHhTY/qQwkjlPptRT07PgEgWAf",
  "K0S/JrCQ9t0NhMVKlPt+mg==",
  "-----END PRIVATE KEY-----",
].join("\n");

export const PYTHON_KEY_FINGERPRINT = "33c06b39a117bab809ec69d893015c2d";

export const PYTHON_PLAINTEXT = "s3cr3t pässword";

export const PYTHON_ENVELOPE = {
  data: "50sGXbXo/qAap7nqX+f7/uzjfQ6lvZts4rmye6Qv5zM=",
  iv: "Yqz4TP21UZrr/fym",
  key: "RKKdjGElmpKX163mwitmPxnwTSDLCBgq+56sm+5St17QV0aWCVy/NIWkIzWArTGhK5OzxHpdywA5RPerfN+cjiA1qqKoElbqtjVNgC4+osJ5xR7gwdnoQFbajj50qaRlpD3wUxA2d3IPcTaOIJbMfCkXaNDu1kPgfhNB7rqLewHZ7w6YzQggatr2WnlfzNg4rvaLNs+L/WMSlWCntPNNH/w6klXLnRsfcMjUudvwnBD46e+bplQWipSB7B1bfk5tpQY7lMcAtmguNd8G6ysGInXDsKqmlZydXTq6BSSi7EWgvtDTsCjQikKARkq4Rs7u1DYkXW3g+spznrOmOFqgMw==",
  version: "33c06b39a117bab809ec69d893015c2d",
};
