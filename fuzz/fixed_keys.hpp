#pragma once
// Fixed private keys for the fuzzers that open JWEs (jwe_open, webhook_verify), so that the
// committed seeds, sealed to these keys, reach the decryption. Test keys, used nowhere else.
#include <string_view>

namespace sealhook::fuzz {

inline constexpr std::string_view kX25519Pem = R"(
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIEjUduyoOOurUMTi+98PaJ5HubRzqL2V8UzOa0dpjtxQ
-----END PRIVATE KEY-----
)";

inline constexpr std::string_view kP256Pem = R"(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4zI2kd9uhguqNnZI
StOnPmezL/vdKo1bk0wWcojYTaChRANCAASLFQ144KGczPKknAAOjJI9IHuzsQR2
uzjQbIsY+IjR/2EOIfS2VFASHSDmlyfnzEY3ycBpof0siDxvo99nFoLQ
-----END PRIVATE KEY-----
)";

inline constexpr std::string_view kRsaPem = R"(
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDS+03U0GThkPh0
XK+83FP/Yx1vgOnJNSkhSpRHO6cvWl0OHBkt/wNqik2V0ByeS789pK8EHRuyqsK5
wOtqm/RaViC3tAy/M2lYh90HR0if6lB5OIpK8KKWvmz8I4QnThEDgHDB1+/Ydl9h
1iiUA0FI0ndVkeYnnnbBgNV+kulCduNN/qePhczTkrGAzMPIdZwmrdP8ReKEQqF8
JzRaPvsfrT9lecipvDqfLYX3Y8wfTZZFnrqG9ktVc4ssviU0ethgMem4TmrjKWwJ
oqnlWMOp7deudhvGGH+O9ZeY4fGWtowQhk2Fasgn6LrtAQ20t5BfkDlenETADkW9
1wYDoe7zAgMBAAECggEAAqzbFMq7rLyI2fje5ZcpnYBlPCe3TyzUY66taKXR/eC4
c1hZ3WJxaaVtTGwCIOO2/hIbggLYehB+PZq7oXNuysJy0cF/s+D0AgJfBBucSSLQ
eGkGH+MjPKQXf673mwP7ZT74rwyM5wLBPN1ZUF8mMcUxbC1YbMIuoU9/5YX5XTVc
znPzRaA3/IHDTfC83WpdJTlkqxlNUb0AjyWGDMkibDr5elaMfexfnocoWMRnnz8M
VUoVpV7DLZVbBQ4Kkv2mkmYEB/o9ie4vpyvNJGsSC665mOxyVnfNWMb7fx40nY9j
k9pGN2F+6jLhQ/U7J64BIp17+ybWHqV2gy7G3aHtgQKBgQD4HjrWJ41BE5M+N1Zy
Ni2Z909viuk7gRzs/h5N2rt2K6uWloKxgaH24/loMwP4v3wpzlWlNH44XJ4DVcff
WSR4VK3DcV5ybXa/OLu7+o5Z2Fqi6tcHcmkyPc1FCZreI4MfY5/LD+vt3Quhaj+D
Ohd4wb+ALDbArRH96Xe4t23RMwKBgQDZrxHXsq3OYESDtKerK6A/7KlI36hOlf59
TaS4MYRhGwIOrk1mfckTtC/XjU7DJ4tQoubUzAcngXMSpkTxcA/2rCTTaQx2GL9v
F+yvnvEWGgpXET1X0aOnF8GnPvcP01Cl5o3ELrrVdSGnk9rEbBjo6HvSkfPB2JUH
3JnRo3LrQQKBgQD0HcoFqiRwQrI8JHYJKQT01z5woFuZEA9FnUBzmSGXwp+wKaWs
v757CxH4Uzk1JDElcL0TLfKBwZ416dAdD7eyLJ5KDOC/9LNAsLEE4h/shdGnOScX
TJnztJqhsjGNHaOE3p/5SlD2VuV6iu6yThWJ2hZwJRA5wg5Ro8MHGnIRwQKBgQCg
o8QsBAylDn+hHfDZrVENu2zVfU9r5t6tw116G/iP3GlxQgmWR97aLo9bp0jnVUhG
0mA7yvDAo5OywIaCEWuGYlSuuofaorqqleIxW76Xy9GznOJC6060oSBkdl/GCvAp
7XDSxJVVrqGOU9sONqNPRTkTFGfothaMfav5e3/zwQKBgASt4j/o2IJmcMD3hKmn
Lxgc6dxkws89pf7AT+qxZRc+GfcUM3bcMLe+MKH2yP/CUxToWQfzXHDSEpjadnAg
wSv1Gx0VbXZZg3Ij5NPjL+VW5af3Tw2Vr4tB+FKll/TPG9djuwBupzJOe2W0K4Bl
XBZ6cMThzK2exoC1inUD36ot
-----END PRIVATE KEY-----
)";

}  // namespace sealhook::fuzz
