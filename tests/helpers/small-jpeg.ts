// A small JPEG for the XS test and its Node twin: page 1 of CUPS's test
// page rendered by Ghostscript at 12 dpi (99 x 140), encoded by cjpeg
// -quality 75 -sample 2x2 -restart 2B. The checksums are FNV-1a of
// djpeg -dct int -nosmooth's output (-rgb and -grayscale); the Node test
// recomputes them from djpeg so they cannot drift.

export const SMALL_JPEG_BASE64 =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx" +
  "NDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy" +
  "MjIyMjIyMjL/wAARCACMAGMDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUF" +
  "BAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVW" +
  "V1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi" +
  "4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAEC" +
  "AxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVm" +
  "Z2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq" +
  "8vP09fb3+Pn6/90ABAAC/9oADAMBAAIRAxEAPwD3+iiigAooooA//9D3+iiigAooooA//9H3+iiigAooooA//9L3+iiigAqC9ufs" +
  "VhcXXkTT+TE0nkwJukkwM7VHdjjAHrU9FAH/0/S5viG1vPJC/gvxcWjYoTHpwdSQccMrkEe4JBq1D4382502H/hF/EqfbsfO9hhb" +
  "fMjJ+9O75cbdx6/KQe9dVRQB57cfFzT7SC4nufDHiiGG2YJPJLYKqxMQpAYl8KSGXg/3h612mj6l/a+lQ332K8svN3f6PexeXKmG" +
  "I+ZcnGcZHsRV6igD/9T3m6uYbKznu7h9kEEbSSNgnaqjJOBz0FchYfE7Rb/VrXTTa6jbTXLIsbXEKhcuAU6MThsjBxjkHpzXR+IY" +
  "ln8NarC88MCyWcymad9scYKEbmbso6k+lcB4Q8L2+qa5/aOpXV2b6xmM9zZu6tGbpnIMqPH8pXdGQVHIaMqxO3BD0sHSwsqM5191" +
  "tbfy09flseo15m3xw8OTPetpeleINWtLJA895Y2G6JFKk5YsylQMNywH3T25rrPHf/JPPEv/AGCrr/0U1fLHhX4d+O9Qg07xL4e0" +
  "rzI1lE1rcfaIBh43xna7dmXuOcelB5p//9X1/wAHeMdL8caH/a2k+esKytDJHOm143GDg4JB4Kngnr65A6CvD/2d4UX/AISyaW6g" +
  "a/e7iSe3t41EcYHmEOjJ+7KsWcAJwAnHBFe4UAFFFFAH/9b3+iisvxFqEmleH7y8hH71EAQ+hYhQeQemc474qoQc5KK3ZFSpGnBz" +
  "lslf7i1c6lYWcgjur22gcjcFllVSR64J9qsRyJLGskbq6OAyspyCD0INeN2ulXutL9tmvIx5twtssty7s0khHC8Anpjk4FbfgrUb" +
  "6w8Rf2NcNIYm3xmJnysTrliR19GHHXOecV6dXLlGDcZXcdzw8PnUqlWMalO0ZOyf5X9T/9f3e8v7PT4hLe3cFtGW2h5pAgJ64ye/" +
  "B/Kizv7PUIjLZXcFzGG2l4ZA4B64yO/I/OvBta1e88ceJX3XKw2qLK1uswISGJFLkkLuO4quTjOTx0AxVt7i+8IapZahp9/BMZov" +
  "MR4g+yRN7KVYMqnGUPb0IOcGutYXTfU+ojw5emk52qNXtbT0v8j1/wCIfg2bx34aXRotXk01DcJLK6xGQSqob5GXcuRuKtyeqjj0" +
  "8qX9nBXQQL42DIW3eWLDIzjrjzeuK9pu79Ly2tpLZy1vPEsyNgjercjg89KgkgeD5i6hlIyATlSRkV8bj+IJ4fESpUqfMofE7287" +
  "L5J/c9LI8GFB21dmf//Q9vsNM8nw9baTqM39pbLRLa4luF3facIFZnBJzu5JBJ6968W1b4YaTpV9qWl6d8UhoGm3DlpNHkuBhA6j" +
  "KsDMu4EYHzDO3AJPU938RfFk/h74e3NxBvW8uXFlDKpOUZlJL5BBBChsEZ+bHavBNH8J6n4rC3UWoWz317PcJDBcPJ511JGiyyfN" +
  "tK5IccuwyTWGGxEMRRjWhtJXKlFxdmfTPg7wdpfgfQ/7J0nz2haVppJJ33PI5wMnAAHAUcAdPXJPQV4T8CvEWpLdT6LcTb9JPFuH" +
  "5MdwwZwi+iskcrHtlOxb5vdq3JP/0ff6KKKACqOsaamsaTcWDyNGJQPnUZwQQRx35Aq9VHWNWtdC0m41K9LC3gXLbFyxJIAAHqSQ" +
  "PTnnFNT5Hzp2tqHsfb/urX5tLd76WP/S6KPTvE+g3V1BZwXilx5bvbxs6OOxBx78HgjJ6c10Hgzwpc2t6mq3haLywfKi2lWJK4O4" +
  "EAjGSPcjPTGeEufG3jXxJfSzaSt4tvDMsqwWMJcRddodguWBwchuCc8dh1/w8+Ic2t3A0fWDuv23NBcKgAlABJVgBgEAHB6ED1+9" +
  "tLPfbJ01G3NpfubS4DrYKP1mU+dQ15b3cev4dfv1RheJfCGueH/FD6t4ftZzbmXzIGtFDNEzAkqUUcL1HQrtIBJziq9l4Y8TeMte" +
  "+0a9FfRIuxZJp4hFhM8qoOMcbsbVPzEZA3E12Ou+KNRn1CfTrBWgRZDDlBmWQ8qcEdASeMc8A5GcCnp3ifVNEukt9RkkktVYeat0" +
  "GMkSnksG+8cZzg7sgADFea+IKMans7eXNbQn/X2nCSo8i5l7vtLbfP8ApdT/0/brvT1EMf2ZFRYkCLEi4AUdAAOmPSqrLe3AWN0k" +
  "IHTcMfrXJ/FP4k/8IbarpunLu1q6i3o7LlLeMkjec8M2QQB04yeMBvJLfx18SNBxrNxcambO8lSQNfW5a3lzlgqFhhVYZ4jK8dOg" +
  "wlwBUzRPFRq+zVTpe3Pb7/8Ah9bdSvrnJo1ex7r4z8Fp4q8GzaQJI47sOJ7eV921ZR64PQqWXocZzgkV4ZY2PxO8Hx3uk6dYazbx" +
  "T/65ba2MyZK/eR1DBWwRkoQeBzlRj3zw74ysvEfhKDXbdNhkJje2Mis0coOChI/766Z2kHAzisXxvq+t6f4JvtZ0iWaS9tTHKqrH" +
  "lFAkTzAygcrs3ZznAycjrRHCfU19W5bcmlvQXNze93P/1Oo+D3w9vfDaSa/qpeG9u4PKjsyMGKMlWy/cMSo+XsOvJwvq9cD8MPiD" +
  "J43064S9gjgv7XaHEe7bIpH3xkYGWB4ycV31ABRRRQB//9X3+sDxrpN1rnhDUNOsgrXMqqUVm2hirq2M+p24GeM+lb9FTKKlFxfU" +
  "1oVpUasasd4tNfLU+btB8SW+k2cdvcab9o8m/iv45IpRE5dAQFclW3JzkDjGTzzW98MrC61fx22sxQQQ21q0ksyR/KqGRXCoi+nJ" +
  "x2AXr0z6vq/g7w/rtwLjUdMilnHWRWaNm4A+YqQW4AAznHata1tbeyt0t7S3iggTO2OJAirk5OAOOpJrhp4OSkuZ6LY+pxnEdCpQ" +
  "mqNNqdRWld3S9O+nkj//1uojt5vDOqiGdJSYUeNGVvLZ1KlQ6nnHXPfHTrUF1NPqc1vb2kMjyLGILeN33s3UgE8cDJ7ABR7Zr1LU" +
  "NKsdViEd7brKBwrZKsvIJwwwRnAzg84qLTdC0zSSzWVoscjZBkYl3xxxuYk44HGcV89LJJ8/Kp/u73t1/rT/AIB8pLh2p7RwVT90" +
  "3e3X0/BdfkeFfHTw9Pp1/od7EGfT0sUsFcgkq0ZYjccYBKtx67W44rkfFXjWLxPDeSNpj29/fz2091KLkNEWhieMBE2AqDvJ5Zul" +
  "fWE8EVzBJBPEksMqlJI5FDK6kYIIPBBHauc0/wCHfhHS9WbVLPQrZLstvVjudUbcGyiMSqEEDBUDHQYFfpmXZ/h6GHhTrU25U1aL" +
  "T807P7l32Po5UX9nY//X6f4ceGNSsPhYDNGplu7n+0YIkbcWjaNVXPYEgbsc8EDrkC0vjqfQ9PuIFs1mnJLK7yHCEgAZGMnGM9R+" +
  "FenVmXnh3SNQlMt1p8MrkYJIxnnPOPrXRi8TLFV5V5Kzk7iiuVWPMfg74ZlgvrzWHaWOFR5MaBjtkbu2Mc4BwDnjJr2GmxxxwxhI" +
  "kVEHRVGAKdXOM//Q9/ooooAKKKKAP//R9/ooooAKKKKAP//S9/ooooAKKKKAP//T9/ooooAKKKKAP//U9/ooooAKKKKAP//V9/oo" +
  "ooAKKKKAP//W9/ooooAKKKKAP//X9/ooooAKKKKAP//Q9/ooooAKKKKAP//R9/ooooAKKKKAP//S9/ooooAKKKKAP//T9/ooooAK" +
  "KKKAP//U9/ooooAKKKKAP//V9/ooooAKKKKAP//W9/ooooA//9k=";

export const SMALL_JPEG_WIDTH = 99;
export const SMALL_JPEG_HEIGHT = 140;
export const SMALL_JPEG_RGB_FNV = 0x03c3499c;
export const SMALL_JPEG_GRAY_FNV = 0xeabf7026;

export function fnv1a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  return hash;
}

// The page placedChecksum() makes (fit on a 384-dot roll, black_1): computed
// by Node; the Node twin asserts Node still makes it, the XS test that XS does.
export const SMALL_JPEG_PLACED_FNV = 0xd3fc62d7;

// Reduced decodes (1/2 RGB, 1/4 gray, 1/8 RGB) and the page of the image
// marked EXIF orientation 6 (turned upright, 384 x 272): computed by Node,
// checked the same way.
export const SMALL_JPEG_HALF_RGB_FNV = 0xf12ee3ff;
export const SMALL_JPEG_QUARTER_GRAY_FNV = 0x254fe46d;
export const SMALL_JPEG_EIGHTH_RGB_FNV = 0xf57982c1;
export const SMALL_JPEG_TURNED_FNV = 0xd7f24fc9;
