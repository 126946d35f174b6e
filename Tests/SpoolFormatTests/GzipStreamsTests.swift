@testable import SpoolFormat
import Foundation
import Testing

/// Larger gzip streams than `GzipTests`'s, made by zlib 1.2.13 (Python's `zlib`, wbits 31) with
/// each of its strategies, so that every path of the decoder's tables is taken: codes longer
/// than the table's bits, fixed codes, copies that overlap what they write, stored blocks
/// between Huffman ones. Each stream's trailer holds the CRC-32 and length of what it inflates
/// to, which `Gzip.decompress` checks; the tests compare the bytes too.
@Suite struct GzipStreamsTests {
    /// 300 lines of `{"user":"user-<i * 7919 % 1000>","n":<i>}`, as the streams were made from.
    static let lines = Array((0..<300).map { "{\"user\":\"user-\($0 * 7919 % 1000)\",\"n\":\($0)}\n" }.joined().utf8)
    /// `lines` at level 1.
    static let level1 = stream("""
        H4sIAAAAAAAEA23ZzY4bNxBF4b0fQ+sY6Fv8KdLvk20WCbwy/O4horoCwjOrAaYAQjrqpr6mfr1+/vPn368f//35/rz+eP31+vH8/vbrf//f2u+J7slq6z2J
        e5Ij35N2T2bO96Tfk7HHezIwUX9P5j3prb0neU/aiPdk3ZNIvSf7nmhXAyGCHkdAhagIQoXdq4KQYc3KIHTIVR2EEPlUCKHEjCohpBi9Uggt+qwWQoy2KkYg
        RuyKEYwhXxKooVY1AjVGxQjE2FkxAjHWrhiBGEsVIxAjW8UIxJijYgRijKwYDTH6qhgNMfpTMRpitPANghjRq0ZDDc2q0VijYjTEqBQNKXZUioYUq1eKhhQ5
        K0VHipmVoiPF2JWiI8VQpehI0Zs3C6Roo1J0pIisFh0ttKtGRw2panTUaBWjI8YeFWMgxpoVYyBGrooxECOfijEQY0bFGIgxesUYiNFnxRiI0VbFGIjRnoox
        ECOiagzUUK8aEzVGxZiIsbNiTMRYu2JMxFiqGBMxslWMiRhzVIyJGCMrxkSMvivGRIyuijERo7WKkYgRvWokamhWjWSNipGIUSkSKXZUikSK1StFIkXOSpFI
        MVelSKSYT6VIpBhRKRZS9FYpFlK0USkWUkRWi4UW2lVjoYZUNRZqtIqxEGOPirEQY2XFWIiRu2IsxEhVjI0YMyrGRozRK8ZGjD4rxkaMtirGRoz2VIyNGBFV
        Y6OGetXYqDErxkaMvSrGRoz9VAw9qLE+7nyQIy1PPegxbU89CDKsTz0o0u1PPUjSLVA9aNJsUD2IElaoHmSRHXpseUv0A1FKtC4RCVH2R6Kk6PpQlBbNj0WJ
        0fnBKDU6PxolR8eHo/Ro/3iUIG0fkFKkYZGKJJVJKppUNqkCF4tNKqJ0W6UiS5dZKro07VIRpmmYijKdlqlI02GaijbttqmI02acijpt1qnI0zBP1XAPyT4V
        gWqfikDdq3YVkaj7qW3lPCPct8KyUkWmppkqOnXaqUcl95rDUBWl2i1VkardVD374L1ms1XVsbWEsSpqVdbq6Xqvaa3qC67WdityddurIliXwSqKNS1WkazT
        ZBXNOm1WEa3DaBXV2q1Wka3NbBXdGnarCNcwXEW5nq3h/eAv0tVyFem6bVcRr8t4FfWa1qvI1zRfRb9O+/U87d0XxDBgRcF2C1YkbDNhjy/vNZsNKyI2jFhR
        sefqqpxkrBUrMnav4ooI2f2UV85Ncb/MZcuKmE1jVtTstGZFzg5zVvTssGdF0HaDVhRts2hF0oZJK5r2vLzKSdTatPoCtcU4EbXbqhVZu8xa0bVp14qwnYat
        KNtp2Z5ztPvTG6ataNtu24q4bcbteXK/1wzrVuRtmLeib8/3eZUmcO1bEbjbwhWJu0zc45D7ZS4bN2jctHGDxp027tnT7jWHjRs0brdxg8ZtNu7pc6/ZbNyg
        ccPGDRr3fCO8cwaNa+LGF8S1ceML4/q0NajcZeUGlZtWblC508oNKndYuUHlDis3qNxu5QaV26zcoHLDyg0q92wplZPKNXLPGcz96dm4QeNuIzeI3GXknoe+
        e8k0coPInUZuELnTyD2KvNccRm4Qud3IDSK3GbnnG+leM4zcIHLPNVk1idxjcM+wt9i4QeNuIzeI3GXkBpG7jNwgctPIDSJ3GrlB5A4jN4jcbuQGkduM3CBy
        m5EbRO55W5WMyD2K8wx7i417zrbvT28buUHkbp/JBpW7rNxzmnavmVZuULnTyg0qd1i557n9XnNYuUHldis3qNxm5Z6HgHvNsHKDypWVG1TuOfWo1FSukRtE
        7rZyg8pdVu7Zm+6XmVZuULnTyg0qd1q5533eaw4rN6jcbuUGldus3KByw8oNKvd8k1QyKvc8ONeMyjVyz6+G91vYVm5QucvKDSp3Wbnnh4p7zbRyg8qdVm5Q
        ucPKPUej95rdyg0qt1u5QeU2K/ccvNxrnr2oklG559HLM9xFRu55hruX3FZuULnbR7dB5i4z93jwXjPN3CBzp5kbZO4wc893y73mMHODzO1mbpC5zcw9l+m9
        5rmYKxmZe/TuGS6Xc1TpGTeXUm5QudvMDTJ3mblB5qaZe34B/v3tX6rnXw4/IAAA
        """)

    /// `lines` at level 9.
    static let level9 = stream("""
        H4sIAAAAAAACA23ZvY5kRRBEYZ/HGBukG1H/vA8uBghrxbuD6IySmHOtlbakNc5OZn+T/ePrrz9/++Pr1//++OX5+vnr969fn79/+vG/vz86nxd9f9ltf178
        /WWN9Xlp31/mmp+X/v1lnPF5GXhR/7zM7y+9tc/L+v7Shj8v+/uLlz4v5/uLTjUQIuhJBFRwRRAqnF4VhAx7Vgahw9rVQQixngohlJiuEkKK0SuF0KLPaiHE
        aLtiGDF8KoYZQ/mRQA21qmHUGBXDiHFWxTBi7FMxjBhbFcOIsVrFMGLMUTGMGGNVjIYYfVeMhhj9qRgNMZozIIjhXjUaamhWjcYaFaMhRqVoSHFcKdrmv1Yp
        GlKsWSn6w9muFF0c7krRzemuFL1xvLMsOue7UvTBAa8WfXLCq0ZHDalqdNRoFaMjxhkVYzyc8IoxxAmvGIOL86kYg5vTFWNwdfaszsEJrxiDPxi7Ygxuz6di
        DK5PV43B/dmrxnz4/18v4oRXjGlOeMWY3J+qGJP7s1WMOTjh+SCZnPCKMRGjn4oxuT9VMSb3Z6sYi/uzV40lTnjVWKxRMRZ/MuqB29OVYr3si0qxJic8H6pI
        MXelWNyeT6VY3J6uFJvbs1WKLU54pdjmhFeL3TjhVWNze6pqbNRoFWNPTnjF2Iv/ISEGYqxTMTb3pyrG4f50xTjcn71iHHPCK8ZpnPCKcbg/n4pxuD9dNQ73
        Z68ahz8aFeMgxtkBF/fnc8XFBXrd+XCDRp56zCGPuh5CI/rU0znmcdfDLRqB6uEajUH1IIqjUD3Iojj0X1uyS7RJjueFm/RKlBTdl6K06LoWJUbnxSg1Oq9G
        ydFxOUqP9utRgrRdkFKkjkhFkiokFU0qXaHTYclClJ6oVGTpDktFl664VITpCkxFmc7IVKTpCE1Fm/bYVMRpC05FnbboVOSpfX9z4YaNT0WgxqciUE+EKhL1
        PMlCpe4oVWTqClNFp844VYTqCFRFqfZIVaRqD1VFq7Z2f6PrXAPpQq0qWhW5Gq3qhaupQq6eeFUE6w5YRbGuiFUk6wxZRbPOmFVE6whaRbX2fn/R5Qdy2Cq6
        1XGrCFcHrqJcFbmKdI1cRbqe2FXE6w5eRb2u6FXk6wpfRb/O+FUE7Bj3AMBbSAQrEraFsJovv90kCxHrIFZUrKJYrZcflzzxKBLHipA9T7LQsjuWFTG7gllR
        s3PewwgvI+Gs6NkRz4qg7QGtKNoW0YqkdUgrmlYxrYjamFYvqE0VovZEtSJrd1grunatey+i8gNbUbYzshVpO0Jb0bY9thVx24JbUbeObkXeOrwVfav4Vufl
        oJgnnksiXJG4e987Glfucw9pXLkxrmncea+rNO6IcU3j9hjXNG6LcU3jthjXNK5jXNO4inFN44a4fiFujOsX4z73wMiVG+Wayl1RrqncGeWayh1RrqncEeWa
        yu1RrqncFuWaynWUaypX9+5K5d676wty792VG/ceXoncfU+vRO66t1cid97jK5E77/WVyB33/Erk9nt/JXJbkGsi10GuiVwHuSZy5XuQ5hAlC417gly/XGGD
        XBO5O8g1kbuCXBO5M8g1kTuCXBO5Pcg1kduCXBO5Lcg1ket2L/Uvn0Tp0l8+oPNE4wa5JnJPlGsqd0e5pnJXlGsqd0a5pnJHlGsqd0S5pnJ7lGsqt/X7DQYv
        LVGuqVxFuaZyFeX65T6bLETuiXJN5e4o11TuinJN5c4o11TujHJN5Y4o11RuH/ebHV5bolxTuY5yPV+ypAuVqyjXVG6QayL3RLl+OdZGuaZyd5RrKndFuaZy
        Z5RrKnfM+40X7y1RrqncHuWaym1RrqlcR7mmchXlmsoNcv2C3CjXVO4Jc03m7jDXZO4Kc03mznW/CST+w1yTuSPMNZnbw1yTuS3MNZnrMNdkrsJck7kKc/1y
        xk0WKveEuSZzd5hrMnft+w3pv1n+AarnXw4/IAAA
        """)

    /// `lines` with `Z_FIXED`: fixed codes, with copies.
    static let fixedCodes = stream("""
        H4sIAAAAAAAEA6tWKi1OLVKyAlO6Bko6SnlKVga1XNUo4paGlhAZQ3QZC2MLiIwRuoy5qTlExhhdxszcDCJjgi5jamkKkTHFkDE0gciYocuYGBtDZMzRZYxN
        jSAyFugyRuaGEBlLdBlDS2gYGGIEgqEBLBAwQsEIGgiGGKFgaQINBUOMYLAwgwaDIUY4mFtAw8EQIyDMDaABYYgREmZG0JAwxAgKUxNoUBhihIWJGTQsDDEC
        w9gCGhhGGIFhZAkNDCPMwDCEJQmM0DA0hoaGEUZomEIDwwgjMCzNoYFhhBEYFpbQwDDCCAwLQ2hgGGEEhrkxNDCMMALDzBQaGEYYgWFqDg0MY4zAMLGABoYx
        RmCYGEADwxgjMIyNYBkEIzCMTKChYYwRGoZm0NAwxgwNaGAYYwQGNCiMMYLC0ggaFMYYQWFhAg0KY4ygMDeDBoUJRlCYmUODwgQjKEwtoUFhghEUpobQoDDB
        CAoTY1hhgREUxqbQoDDBCAojc2hYmGCEhaElNDRMMELD0BAaGiYYoWEMDQwTjMCwNIUGhilGYFiYQQPDFCMwzC2ggWGKWXAaQAPDFLPkNIIGhilm0WkCKzox
        AsPEDBoYppgJwwIaGKaYpacBNDBMMYtPI2homGKWnybQ0DDDCA1TaGCYYQSGpTk0MMwwAsPCEhoYZpjlpyE0MMwwy09jaGCYYQSGmSmsIsEIDFNzaGCYYQSG
        iSU0MMwwy09DaGCYYZafxtDAMMcsP02goWGOERqGZtDQMMcMDWhgmGOmDKgEZulpBA0KcyzlBTQozDGCwtwMVqliBIWZBTQozDFLTwNoUJhjlp5G0KCwwCw9
        jaFBYYERFMam0KCwwAgKI3NoWFhghIWhJTQ0LDBLT0NoaFhghIYxNDAsMALD0hQaGBYYgWFhDmtiYASGuSU0MCwwy09DaGBYYpafRtDAsMQsP02ggWGJERgm
        ZtDAsMQIDGMLaGBYYpafBtDAsMQsP42goWGJWX6aQEPDEjNpQAPDEiMwLC1gDS7M8tMA3uLCLEDh7U4DzBIU1vI0NMAIDzNY29PQALOhAWt9GhpghIgJrP1p
        aIBZisJaoIYGmMUorA1qaIARKEawVqihAUawGMLaocC2JWa4wFqbmM1xmAxmSQpviWI2RS3gTVHMtqg5vC2K2Rg1gzdGMVujZvDWKGZz1BTeHMVsj5rA26OY
        DVJjeIMUs0VqBGuRGmI2SQ1hTVJDzDapoSG8hY7ZDoMFC2aj1BLWKjXEbJZawJqlhpjtUnNYu9QQs2FqDmuYGmK2TM1gLVNDzKapKaxpaojZNjWBtU0NMRun
        xrDGqSFm69QY1jo1xGyeGhnBey6YJSysfWqI2UCFtU8NMRuolrAWqiFmE9XSABYsmK1UC1gr1RCzmWoOa6YaYrZTzWDtVEPMhqoprKFqiNlSNYG1VA0xm6om
        sKaqIWZb1dgY3qPDCBYjWGPVELO1aghrrRpiNldhrVVDLM1VWKhgNlctYe1VQ8wGqwWswWqI2WI1h7VYDTGbrGawJqshZpvVDNZmNcRstJrCGq2GmK1WExN4
        RxezQoY1Ww0x261GsHarIWbD1QjWcDXEbLkawlquhphNV1jL1RCz6WoJa7saYjZeLWCNV0PM1qs5rPVqiNl8NYc1Xw0x269msParIWYD1tQUPgCAORYCa8Ea
        YjZhjWFNWEPMNqwxrA1riNmINYI1Yg0xW7GGsFasIWYzFtaKNcRsxlrC2rGGmA1ZSwNYsGC2ZS1gbVlDzMasOawxa4jZmjUzgw+MYI6MwJqzhpjtWVNYe9YQ
        s0FrAmvQGmK2aI1hLVpDzCatEaxJa4jZpjWEtWkNMRu1sDatIZZGLSxUMBu1lrBWrSFms9YC1qw1xGzXmpvDx4swW/mwhq0hZsvWDNayNcRs2prCmraGmG1b
        E1jb1hCzcWsMa9waYrZujWCtW0PM5q0RrHlriNm+NYS1bw0xG7iw9q0hZgPXEtbCNcRs4lpYwMfRMItcA/hAGmaRC2vjGmG2cc3go6uYbVxTWBvXCLONawJr
        4xphtnGNYW1cI8w2rjGsjWuE2cY1grVxjTDbuIawNq4RZhsX1sQ1wtLEhbVxjbC0cQ3gA4yYRS6slWuE2co1h7VyjTBbuWawVq4RZivXFNbKNcJs5ZrCWrlG
        mK1cE1gr1wizlWsMa+UaYbZyjWCtXCPMVq4hfNwVs5ULH3fF0siFj7tilrjwgVfMRq4FfOgVs5FrDh97xWzkmsEHXzEbuWbw0VfMRq4pfPgVs5FrAh9/xWzk
        GsMauUaYjVwjWCPXCLORawRr5BphNnINjeAD0piZCBYsmG1cS1gj1wjLKCyskWuE2ci1gDVyjTAbueawRq4RZiPXDNbINcJs5JrCGrlGmI1cE1gj1wizkWsM
        a+QaYTZyjWGNXCPMRq6RMXykHktNBAsXzEYurI1rhKWNC2vkGmE2ci1hrVwjzFauBayVa4TZyjWHtXKNMFu5ZrBWrhFmK9cU1so1wmzlmsJauUaYrVwTWCvX
        CLOVa2wCn8HAHGmBtXKNMFu5hrBWrhFmK9cQ1so1wjI+CwsWzEauJayVa4TZyrWAtXKNMFu55rBWrhFmK9cM1so1wmzlmsFauUaYrVxTWCvXCLOVa2IKn9nB
        HG2BtXKNMFu5RrBWrhFmK9cI1so1wmzlGsJauUaYrVxYI9cIs5FrCWvlGmEZrIW1co0wW7kWsFauEWYr1xzWyjXCbOWawVq5RpitXFMz+IwX5ngLrJVrhNnK
        NYG1co0wW7nGsFauEWYr1wjWyjXCbOUawlq5RpitXFgj1whLIxfWyjXCbOVawpq5RpjNXAtYM9cIs5lrDmvmGmE2c83M4TOBmI1/WDPXCLOZawpr5hphNnNN
        YM1cI8xmrjGsmWuE2cw1gjVzjTCbuYawZq4RZjPXENbMNcIyjAsLFsxWriWsmWuE2cy1gDVzjTCbueYW8BlSYLAAAKrnXw4/IAAA
        """)

    /// `lines` with `Z_HUFFMAN_ONLY`: literals only, in dynamic blocks.
    static let huffmanOnly = stream("""
        H4sIAAAAAAAEAwXBsQ0EIQwAwZwyNgbpgYM73I9TAluOEL3/zCFcDSFcrfzIbOR30yFcDSFcray6yGyk3nQIV0MIVytf/8hspN10CFdDCFcr73jJbKTfdAhX
        QwhXK/OdZDby3HQIV0MIVytjDTIbGTcdwtUQwtXKqA+ZjcybDuFqCOFq5emdzEbemw7hagjhaqWPRmYj302HcDWEcLXS3kpmI+umQ7gaQrhaqetHZiP1d9Mh
        XA0hXK3U3yKzkVpvOoSrIYSrlfaR2UhtNx3C1RDC1cp6XjIbqf2mQ7gaQrha+eYks5H63HQIV0MIVyvvN8hspI6bDuFqCOFq5f09ZDZS502HcDWEcLUyWyez
        kfredAhXQwhXK+NpZDZSv5sO4WoI4WrlmZXMRuq66RCuhhCuVvr3I7OR9rvpEK6GEK5W2lpkNtLqTYdwNYRwtdLqR2Yjrd10CFdDCFcrtb9kNtL6TYdwNYRw
        tTImmY2056ZDuBpCuFpZ7yCzkTZuOoSrIYSrlW89ZDbS5k2HcDWEcLXy1U5mI+296RCuhhCuVt7eyGykfTcdwtUQwtXKHJXMRtq66RCuhhCuVsb7I7OR/rvp
        EK6GEK5Wnm+R2UivNx3C1RDC1crz+8hspLebDuFqCOFqpbeXzEZ6v+kQroYQrlbaM8lspD83HcLVEMLVSp2DzEb6uOkQroYQrla+h8xG+rzpEK6GEK5WOpmN
        9PemQ7gaQrhaWa2R2Uj/bjqEqyGEq5XvqWQ20tdNh3A1hHC18s4fmY08v5sO4WoI4WplvovMRp560yFcDSFcrYz1kdnI0246hKshhKuVUV8yG3n6TYdwNYRw
        tfL0SWYjz3PTIVwNIVyt9DHIbOQZNx3C1RDC1Up7HzIbeeZNh3A1hHC1Ulcns5HnvekQroYQrlZqbWQ28nw3HcLVEMLVSq9kNvKsmw7hagjhamWNH5mNjN9N
        h3A1hHC18s1FZiOj3nQIV0MIVyvv95HZyGg3HcLVEMLVyvt7yWxk9JsO4WoI4WpltklmI+O56RCuhhCuVsYzyGxkjJsO4WoI4WrlmQ+ZjYx50yFcDSFcrfSv
        k9nIeG86hKshhKuV/mtkNjK+mw7hagjhaqW1SmYjY910CFdDCFcr9fmR2cj83XQIV0MIVytjkdnIrDcdwtUQwtXKej8yG5ntpkO4GkK4WvnWS2Yjs990CFdD
        CFcrX51kNjKfmw7hagjhauXtg8xG5rjpEK6GEK5W5njIbGTOmw7hagjhamW8ncxG5nvTIVwNIVytPKuR2cj8bjqEqyGEq5WnVjIbmeumQ7gaQrha6f1HZiPv
        76ZDuBpCuFppzyKzkbfedAhXQwhXK3V+ZDbytpsO4WoI4Wrle8ls5O03HcLVEMLVyiSzkfe56RCuhhCuVlYbZDbyjpsO4WoI4Wrlex4yG3nnTYdwNYRwtfLO
        TmYj73vTIVwNIVytzK+R2cj73XQIV0MIVyvzV8ls5F03HcLVEMLVymg/Mhv5fjcdwtUQwtXK0xeZjXz1pkO4GkK4WunjI7ORr910CFdDCFcr7X3JbOTrNx3C
        1RDC1Updk8xGvuemQ7gaQrhaqXWQ2cg3bjqEqyGEq5X+kNnIN286hKshhKuVNTqZjXzvTYdwNYRwtfK9jcxGvu+mQ7gaQrhaeVcls5Fv3XQIV0MIVytv/ZHZ
        yPrddAhXQwhXK7MtMhtZ9aZDuBpCuFoZz0dmI6vddAhXQwhXK898yWxk9ZsO4WoI4Wqlf5PMRtZz0yFcDSFcrfTfILORNW46hKshhKuV1h4yG1nzpkO4GkK4
        WqlPJ7OR9d50CFdDCFcrs5HZyPpuOoSrIYSrlfVVMhtZ66ZDuBpCuFpZvx+ZjdTf76ZDuBpCuFr56iKzkfqrNx3C1RDC1crbPzIbqb920yFcDSFcrczxktlI
        /fWbDuFqCOFqZbyTzEbq77npEK6GEK5WnjXIbKT+xk2HcDWEcLXy1IfMRupv3nQIV0MIVyu9dzIbqb/3pkO4GkK4WmmjkdlI/X03HcLVEMLVSn0rmY3U37rp
        EK6GEK5W1o/MRmr93XQIV0MIVyuLzEZqrTcdwtUQwtXKah+ZjdTabjqEqyGEq5XveclspNZ+0yFcDSFcrbxzktlIrc9Nh3A1hHC1Mr9BZiO1jpsO4WoI4Wpl
        /h4yG6l13nQIV0MIVyujdTIbqfW96RCuhhCuVp6nkdlIrd9Nh3A1hHC10mcls5Fa102HcDWEcLXSvh+ZjdT2u+kQroYQrlbqWmQ2Ulu96RCuhhCuVmr9yGyk
        tnbTIVwNIVyt9JfMRmrrNx3C1RDC1coak8xGantuOoSrIYSrle8dZDZS27jpEK6GEK5W3vWQ2Uht86ZDuBpCuFp5ayezkdremw7hagjhamX2RmYjtX03HcLV
        EMLVyhiVzEZqWzcdwtUQwtXK8/7IbKT2302HcDWEcLXSv0VmI7XXmw7hagjhaqX/PjIbqb3ddAhXQwhXK629ZDZSe7/pEK6GEK5W6jPJbKT256ZDuBpCuFqZ
        g8xGah83HcLVEMLVyvoeMhupfd50CFdDCFcr69fJbKT296ZDuBpCuFr5WiOzkdq/mw7hagjhauV9KpmN1L5uOoSrIYSrlTl/ZDZSn99Nh3A1hHC1Mt5FZiP1
        qTcdwtUQwtXKsz4yG6lPu+kQroYQrlae+pLZSH36TYdwNYRwtdL7JLOR+jw3HcLVEMLVShuDzEbqM246hKshhKuV+j5kNlKfedMhXA0hXK2sTmYj9XlvOoSr
        IYSrldrIbKQ+302HcDWEcLWyeiWzkfqsmw7hagjhauUbPzIbqeN30yFcDSFcrbxzkdlIHfWmQ7gaQrhamd9HZiN1tJsO4WoI4Wpl/l4yG6mj33QIV0MIVyuj
        TTIbqeO56RCuhhCuVp5nkNlIHeOmQ7gaQrha6fMhs5E65k2HcDWEcLXSvk5mI3W8Nx3C1RDC1Ur7NTIbqeO76RCuhhCuVmqrZDZSx7rpEK6GEK5Wnh+ZjdT5
        u+kQroYQrlbWWGQ2Ume96RCuhhCuVr73I7OROttNh3A1hHC18q6XzEbq7DcdwtUQwtXKWyeZjdT53HQIV0MIVyuzDzIbqXPcdAhXQwhXK2M8ZDZS57zpEK6G
        EK5WnreT2Uid702HcDWEcLXSVyOzkTq/mw7hagjhaqXXSmYjda6bDuFqCOFqpfUfmY3U93fTIVwNIVyt1GeR2Uh9602HcDWEcLUyPzIbqW+76RCuhhCuVtb3
        ktlIfftNh3A1hHC1sn6TzEbq+9x0CFdDCFcrXxtkNlLfcdMhXA0hXK28z0NmI/WdNx3C1RDC1cqcncxG6vvedAhXQwhXK+NrZDZS3++mQ7gaQrhaGb9KZiP1
        XTcdwtUQwtXK035kNlK/302HcDWEcLXS+yKzkfrVmw7hagjhaqWNj8xG6tduOoSrIYSrlfq+ZDZSv37TIVwNIVytrElmI/V7bjqEqyGEq5U6yGykfuOmQ7ga
        QrhaWf0hs5H6zZsO4WoI4WrlG53MRur33nQIV0MIVyvv28hspH7fTYdwNYRwtTJXJbOR+q2bDuFqCOFqZdYfmY3U9bvpEK6GEK5WRltkNlJXvekQroYQrlae
        5yOzkbraTYdwNYRwtdLnS2YjdfWbDuFqCOFqpX2TzEbqem46hKshhKuV9htkNlLXuOkQroYQrlZqe8hspK550yFcDSFcrTydzEbqem86hKshhKuVNRuZjdT1
        3XQIV0MIVyvfV8lspK510yFcDSFcrXy/H5mNtN/vpkO4GkK4WnnrIrOR9qs3HcLVEMLVyuwfmY20X7vpEK6GEK5WxnjJbKT9+k2HcDWEcLXyvJPMRtrvuekQ
        roYQrlb6GmQ20n7jpkO4GkK4Wun1IbOR9ps3HcLVEMLVSuudzEba773pEK6GEK5W6mhkNtJ+302HcDWEcLXyVjIbab910yFcDSFcraz1I7ORVn83HcLVEMLV
        yvotMhtptd50CFdDCFcrX/vIbKTVdtMhXA0hXK28z0tmI632mw7hagjhamXOSWYjrT43HcLVEMLVyvgGmY20Om46hKshhKuV8XvIbKTVedMhXA0hXK08rZPZ
        SKvvTYdwNYRwtdKfRmYjrX43HcLVEMLVSpuVzEZaXTcdwtUQwtVK/X5kNtLa76ZDuBpCuFpZi8xGWqs3HcLVEMLVSv3IbKS1dtMhXA0hXK2s/pLZSGv9pkO4
        GkK4WvnGJLOR1p6bDuFqCOFq5X0HmY20Nm46hKshhKuVuR4yG2lt3nQIV0MIVyuzdjIbae296RCuhhCuVkZvZDbS2nfTIVwNIVytPKOS2Uhr66ZDuBpCuFrp
        74/MRlr/3XQIV0MIVyvtW2Q20nq96RCuhhCuVtrvI7OR1ttNh3A1hHC1UttLZiOt95sO4WoI4WrlmWQ20vpz0yFcDSFcraw5yGyk9XHTIVwNIVytfN9DZiOt
        z5sO4WoI4Wrl+3UyG2n9vekQroYQrlbe1shspPXvpkO4GkK4WplPJbOR1tdNh3A1hHC1MuaPzEba87vpEK6GEK5WnneR2Uh76k2HcDWEcLXS10dmI+1pNx3C
        1RDC1UqvL5mNtKffdAhXQwhXK61PMhtpz3PTIVwNIVyt1DHIbKQ946ZDuBpCuFp5HzIbac+86RCuhhCuVtbqZDbSnvemQ7gaQrhaWbWR2Uh7vpsO4WoI4Wrl
        65XMRtqzbjqEqyGEq5V3/MhspI3fTYdwNYRwtTLnIrORNupNh3A1hHC1Mr6PzEbaaDcdwtUQwtXK+L1kNtJGv+kQroYQrlaeNslspI3npkO4GkK4WunPILOR
        NsZNh3A1hHC10uZDZiNtzJsO4WoI4Wqlfp3MRtp4bzqEqyGEq5X6a2Q20sZ30yFcDSFcrbRKZiNtrJsO4WoI4WplPT8yG2nzd9MhXA0hXK18Y5HZSJv1pkO4
        GkK4Wnnfj8xG2mw3HcLVEMLVylwvmY202W86hKshhKuVWSeZjbT53HQIV0MIVyujDzIbaXPcdAhXQwhXK894yGykzXnTIVwNIVyt9LeT2Uib702HcDWEcLXS
        ViOzkTa/mw7hagjhaqXVSmYjba6bDuFqCOFqpfYfmY2093fTIVwNIVytPIvMRtpbbzqEqyGEq5U1PzIbaW+76RCuhhCuVr7vJbOR9vabDuFqCOFq5ftNMhtp
        73PTIVwNIVytvG2Q2Uh7x02HcDWEcLUyn4fMRto7bzqEqyGEq5UxO5mNtPe96RCuhhCuVp6vkdlIe7+bDuFqCOFq5flVMhtp77rpEK6GEK5WevuR2Uj7fjcd
        wtUQwtVK64vMRtpXbzqEqyGEq5U6PjIbaV+76RCuhhCuVt6XzEba1286hKshhKuVtSaZjbTvuekQroYQrlZWHWQ20r5x0yFcDSFcrXz9IbOR9s2bDuFqCOFq
        5R2dzEba9950CFdDCFcr821kNtK+76ZDuBpCuFoZq5LZSPvWTYdwNYRwtTLqj8xG2vrddAhXQwhXK09bZDbSVr3pEK6GEK5W+vOR2Uhb7aZDuBpCuFpp8yWz
        kbb6TYdwNYRwtVK/SWYjbT03HcLVEMLVSv0NMhtpa9x0CFdDCFcr7SGzkbbmTYdwNYRwtbKeTmYjbb03HcLVEMLVyjcbmY209d10CFdDCFcr71fJbKStddMf
        qudfDj8gAAA=
        """)

    /// 5,000 `a`s, 3,000 `ab`s and the first 2,000 bytes of `lines`, with `Z_RLE`: copies of distance 1 and 2, overlapping what they write.
    static let runLength = stream("""
        H4sIAAAAAAAEA+3Bu23rCBRAwVxl3FgCLOtjm93MAZgqIMFIUO9bxWZvxj///PPPP//8888///zzzz///PPPP//88/9LkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ
        kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiS959jXbZY59nW7fM15XrN8fU7vOfZ1m2WOfd0uf9e/Oc9rluvn9J5jX7dZ5tjX7fJ7+53zvGb5/pzec+zrNssc+7pd
        fh4/c57XLLfP6T3Hvm6zzLGv2+X585zzvGa5f07vOfZ1m2WOfd0uj7/HnOc1y+Nzes+xr9ssc+zrdnlc73Oe1yzPz+k9x75us8yxr9vlfrvNeV6z/HxO7zn2
        dZtljn3dLrfH95znNcvv5/SeY1+3WebY1+3y/XOd87xm+fuc3nPs6zbLHPu6Xa5/X3Oe1yzXr8/pPce+brPMsa/b5fr1N+d5zXK9fk7vOfZ1m2WOfd0u379z
        ntcs1+/P6T3Hvm6zzLGv2+Xv/jPnec1yvX1O7zn2dZtljn3dLr/P55znNcv1/jm959jXbZY59nW7/Pw+5jyvWa6Pz+k9x75us8yxr9vl5+s+53nNcn1+Tu85
        9nWbZY593S7P79uc5zXL9edzes+xr9ssc+zrdnncv+c8r1muv5/Te4593WaZY1+3y/15nfO8Zrn+fU7vOfZ1m2WOfd0ut9+vOc9rlu+vz+k9x75us8yxr9vl
        ++9vzvOa5fv6Ob3n2Ndtljn2dbt8X3/nPK9Zvr8/p/cc+7rNMse+bpfr7WfO85rl+/Y5vefY122WOfZ1uzyec57XLN/3z+k9x75us8yxr9vl7+cx53nN8v34
        nN5z7Os2yxz7ul1+/+5zntcs38/P6T3Hvm6zzLGv2+X3epvzvGb5/vmc3nPs6zbLHPu6XX5u33Oe1yzfv5/Te4593WaZY1+3y/NxnfO8Zvn++5zec+zrNssc
        +7pdHj9fc57XLLevz+k9x75us8yxr9vl/vs353nNcrt+Tu859nWbZY593S73r985z2uW2/fn9J5jX7dZ5tjX7XL7/pnzvGa53T6n9xz7us0yx75ul+/7c87z
        muV2/5zec+zrNssc+7pdrs/HnOc1y+3xOb3n2Ndtljn2dbv83uc8r1luz8/pPce+brPMsa/b5Tbnec1y+/mc3nPs6zbLHPu6Xf6+v+c8r1luv5/Te4593WaZ
        Y1+3y+/9Oud5zXL7+5zec+zrNssc+7pdfp5fc57XLPevz+k9x75us8yxr9vl+fM353nNcr9+Tu859nWbZY593S6Pv985z2uW+/fn9J5jX7dZ5tjX7fK4/sx5
        XrPcb5/Te4593WaZY1+3y/32nPO8ZrnfP6f3HPu6zTLHvm6X2+Mx53nNcn98Tu859nWbZY593S7fP/c5z2uW+/Nzes+xr9ssc+zrdrn+3eY8r1nuP5/Te459
        3WaZY1+3y/X6Ped5zXL//Zzec+zrNssc+7pdbtc5z2uW+9/n9J5jX7dZ5tjX7fL3+JrzvGZ5fH1O7zn2dZtljn3dLr/PvznPa5bH9XN6z7Gv2yxz7Ot2+fn9
        nfO8Znl8f07vOfZ1m2WOfd0uP18/c57XLI/b5/SeY1+3WebY1+3y/H7OeV6zPO6f03uOfd1mmWNft8vj/pjzvGZ5PD6n9xz7us0yx75ul/vzPud5zfJ4fk7v
        OfZ1m2WOfd0ut9/bnOc1y+Pnc3rPsa/bLHPs63a5fX3PeV6zPH4/p/cc+7rNMse+bpfv7+uc5zXL4+9zes+xr9ssc+zrdrnev+Y8r1meX5/Te4593WaZY1+3
        y+NvzvOa5Xn9nN5z7Os2yxz7ul3+fn7nPK9Znt+f03uOfd1mmWNft8vv38+c5zXL8/Y5vefY122WOfZ1u/xen3Oe1yzP++f0nmNft1nm2Nft8nN7zHleszwf
        n9N7jn3dZpljX7fL83Gf87xmeT4/p/cc+7rNMse+bpfHz23O85rl+fM5vefY122WOfZ1u9z/vuc8r1mev5/Te4593WaZY1+3y/16nfO8Znn+fU7vOfZ1m2WO
        fd0ut9vXnOc1y8/X5/SeY1+3WebY1+3yff+b87xm+bl+Tu859nWbZY593S7X5++c5zXLz/fn9J5jX7dZ5tjX7fL7M+d5zfJz+5zec+zrNssc+7pdnnOe1yw/
        /wFtQIXKyDIAAA==
        """)

    /// The first 3,000 bytes of `lines`, 1,500 random bytes (`random.seed(7)`, `getrandbits(8)`) and the rest of `lines`, each part followed by `Z_FULL_FLUSH`: dynamic blocks, a stored one, empty stored ones.
    static let flushedParts = stream("""
        H4sIAAAAAAAAA2zWMW5cMQxF0T7L+LUNiCIpit6P2xQxUhnZe4L8JwP5N9UA87oDzR1+Xj8/3n9cb38/Xsf1cn2/3savb5//fN/W92LPZfu+l/lcKute/Lms
        WvcSzyU77yWxWNzLei7hfi/1XDznveznMsvupZ+LtQwMCDYOAhSmEAwKHVIwMOwlBoNDbTkYIGoIwiCxpiQMFBmiMFjEkoUBw7cwJjBmC2MSw86TgIa5NCY0
        UhgTGF3CmMDYLYwJjG3CmMAoF8YExkphTGBkCcOBEVsYDowYwnBg+Dw/EGDMkIZDw5Y0nBrCcGCIwkHRUxQOih2icFDUEkWAYpUoAhTZoghQpIkiQBF+YgEK
        T1EEKGbJImBhLY2Ahpk0AhoujABGpzASGHsJI4FRWxjJcA5hJMs5hZFMZ5x0AiOWMJIPYwsjWc8hjGQ+pzSS/QxpLGikMBYwuoSxgLFbGIv9NGEs9tOFsYCx
        8vyRACNLGAsY0cJY7KcJY7GfLoxiP0MaBQ1b0ihqCKP4MjSwnlMU9Z9eiKJAUev8qYJibVEU6zlEUaznFMVmPV0UGxSeotigmCWLDQtraWzW06SxoeHC2MDo
        FMYGxq5zYgCjWhib/TRhNPs5hdHsZwijgRFLGA0M38Jo9nMIo9nPKY1mP0MazachjAZG73NwsZ/j6+JiQL/uzsGCnsvTBjzWuT1t8NA416cNiMS5P22woucC
        tcGMnhvUBlDmuUJtgMXOHfrntqTLuTZ5jl8vvwEAAP//ANwFI/pS8iZlpgwS0okYXZUO6IE2CRZvaxE9F41sD9OQH/I5oaCV8g+TlWUM+TgLjtsiSmskih6S
        To/Qri4alJKjMF8YjLYQkA+eNH+uiG3GUHeV7HRcTD/LLrLHPhSTTIZ+4Fe6ckmb+hIeg2sqwVcm7n1rCvarE8OOksrg0VBXsVmYf5TMdBHXF/FFebKqEA+7
        s0+lk/6u0nJIt2Ljq1gF8HZaK5wdfg83xEkhvT9lZOrffxQqcmaMR+Ij0W7djEe0avxbruJh9TsmFS0mO6g7A3zUli5DSAEla4henJBR8yCw24PznqetvQ10
        5t7H89+uzI9kZWZkGnuiZg8wEfw1cCkcV5kNGgCRJokZ8l2dBhLfNZ1gJqJA9FiaXXkfHdl8/vp3entPFSQav1e9Q3rUsSmEBTTz84dcJbCL6gbCh0z6pN0X
        sthChF3oKlvFOYiKx4BUojmcz8n8wtoxzj3RZr3NOjOEflu7B/0Hykd4QjGxmvRYcs7vufxZ9PldFDgaOngyVjR7n/zmnNcAeuinWMykFdWpHuhjyLbAM3rj
        LW/KolUWzfL4uGV2Zr7yFbkoK/4gByaX53fOpyWc05j6eajvWSeMjCEFA8z4uaYahr/vI2/83zHT3zYHQDZKgD3DllNCi2vVIQ/ovVrldamV0OeEa9Pq4IAh
        iCaGggTfcMYumwHGzCYsJHmeuR6OD1OuhIeOe8jGG+KPDj8wRgrFGYFzjwfC5OkQcVOc+YGbgzOxRnOCiM56gfE/soXg4PHtQuyP5PEz13Ijah9kcVASqz1t
        EjarTcgf5cYn8LekqV0kQOIj93c4v/MYZeJ8Kf2q1TkptG7+g2dWazJbURe4XQRWjXVwtARiVISfS4P1EBz868k6+OAaFUNFCufHLkXBIdFs2emt0fJCZyaJ
        64OSfrNTFkcOzLAubOUSRPAEohbNQhWb2zgRQ9wfdAJW/o1q7epEnyELhrU98Bz4KUMMLjPuT6BOh8I0SnKArC1FWM0E/kAJAwS7gY36MIN5Pu9yG6jRpm6o
        fovV42T4gU6wN/s6VzLV4bS6oiNn/Vj7DdYhAxKgveFBbikOFarXYd6Bq/hImT6xSwt1LyhEcgBDXfZU+PyMUj4I9+FPN1suAFVhFXlHgKczP4HGARdD0RYk
        ZpYKZAVMTaE7FZX1h9rAJ6jkt8jhmGPDU7j8fiZIuZ6kJQvT1bfkg6Btu7PPgSPohsCBkdXQzQTTr5XM5Lau9LGkOhUHCiKjXPUaYNVzjgygBKCIrj59QwB0
        zBG/7oDliReohhC+vHlAzxPYQzy6wTQ7vab5dX7YYRN66a9JxAudoaQyE5klVEGmvrFNn5EiA3sPfET4rBmxN6x9SrWESXZ3d8Qe/uSMM0/6Fe95BEp1E9GB
        9/5z/kRjNery7jUTlBckv4ZD81whmtGhgkfjHLRdO3/l4HxkBigA832uc2dNuiRqWGBQHtdUAFPAVtZlHvDtMrYD5r1KQF8QZGP/3pYTXOxtwUbaDEcaDdWp
        SaLvJj/4RG+CUDDFX8j0beIHz8KhZung8I2MNLgUDO67aXOdwCOk3kl8DOntjCAreGpXSExBvb35p0Jnpz1Ne46rZB4qpCkTNYDnz3+MOHPoVf/Cc20jjDE+
        FyxXjhdRPV5Cz5Ez4wW/3mliab6GNWBFVsAPf0eT91wgr4CHocrc2TcXReU/Ymalcm70T9nQ3/cFIAhstcPlzXn3ln0AEmTu7e3Th9p3+HI/yBs5JyaF+K4b
        8dO4s6XYw+V1FY3GCgDIIDuR6wmlt032IKBAh6JvssMcGRJMhvGVMWNCOcqZAAKJTf91R/VQpdbiPnmGPIw/B/VptKZODgUxf+KspWsUQTqqbOxeOn4Isla3
        a1yuZTIBzEq92IERNH74M0/E0TE7dzhDwuNLG/Offpwv5Tl8aumqDvKYJexkDTYG+Zgkag21Dy9kc+W24lC7HP8U7ipUMC+n74a/dwhPqrlg1l/8VHErGwAU
        RxRZa/TiH48AAAD//2zWMY4cRxAFUV/HGFsEun5VVmXxPnRpSKAl6O5cEgxnYq01vrGDQHf2e31/fR1j/P/Xf68f/3775/X1958vN/36+/V7y/vW67DN9+3s
        zbbet93FVtqexbbft8pkO+/bWmHr923uwXbft/TzZ8vzvo172dTl49+wqcskS5TlFlmiLH3IEmU5lyxRljPIEmXZkyxRliqyRFnWIctUltlkmcoyH7JMZUno
        MtVlLLpMPy5kmcpymyxTWe5DlqksHbJMZTmLLFNZ9ibLUpY6ZFnKsi5ZlrKsQZalLHOSZSlLii5LXcahy3IXsixlGVRZqnInVZaqdFGlVOVsqpSq7KZKqcp+
        qFKqUqFKqcpaVClVmZsqpSppspSy5KFLqcvHaWDzS0SWrSy3yLKVpQ9ZtrKcS5btkzvIsv0OTbJsZakiy1aWdciylWVesmyf3EGW7ZM76XJ8chddziePC5Oy
        3CbL8cl9yHJ8ckOW45O7yHKUZW+yHGWpJsvxyX3Icvy0hCztkzvJ0sqSokury8fPY3MXsrSyDKq0L+6kSqtKF1VaVc6hSqvKvlRpX9xBleuLG6pcX9xFlevv
        86bKVZU0Wa4v7kOX64sbuly/RGS5ynI3Wa6ydJPl+uQ+f7Lk8ckdl83v0Gw2Zak6bMqyzmZTlnmLzSd3LDaf3DnZ/CWqsPkDPZiU5V6yDJ/chyxWbqPcWLkH
        5cbK3Sg3Vm6h3Fi5hXJj5S6UGyt3otxYuUG5sXIHyo2VC3LzCXKpYuNekBsjt0FujNwDcmPkbpAbI3eD3Bi5BXJj5C6QGyN3gtwYuQG5MXIDcmPkDpAbIxfj
        xsa9IDdGboPcGLkNcmPkHpAbI3eD3Bi5BXJj5C6QGyN3gtwYuRPkxsgNyI2RO0BujFyMm0+MC3Jj5F6UGyu3UW6s3INyY+VulBsrt1BurNxCubFyF8qNlTtR
        bqzcoNxYuQPlxsodKDdWLsiNkXtRbqzcRrmxcg/KjZW7UW6s3I1yY+UWyo2Vu1BurNyJcmPlBuXGyg3KjZU7UG6sXJAbI/ei3Fi5jXJj5TbKjZV7UG6s3I1y
        Y+UWyo2Vu1BurNyFcmPlTpQbKzcoN1buQLmxckFuPkEuyo2Ve2FuzNyGuTFzD8yNmbthbszcgrkxcwvmxsxdMDdm7oS5MXMDc2PmDpgbM3fA3Ji5KDdW7oW5
        MXMb5sbMPTA3v5j7EwAA//8DAPzrwhcbJgAA
        """)

    static func stream(_ base64: String) -> [UInt8] { Array(Data(base64Encoded: base64.filter { !$0.isWhitespace })!) }

    private func inflate(_ compressed: [UInt8], limit: Int = 1 << 20) throws -> [UInt8] {
        try compressed.withUnsafeBytes { raw in try Gzip.decompress(raw, outputLimit: limit) }
    }

    @Test func everyStrategyInflatesToWhatItWasMadeFrom() throws {
        for stream in [Self.level1, Self.level9, Self.fixedCodes, Self.huffmanOnly] {
            #expect(try inflate(stream) == Self.lines)
        }
        let runs = Array(repeating: UInt8(ascii: "a"), count: 5_000) + Array(repeatElement(Array("ab".utf8), count: 3_000).joined())
            + Self.lines[..<2_000]
        #expect(try inflate(Self.runLength) == runs)
        let parts = try inflate(Self.flushedParts)
        #expect(parts.count == Self.lines.count + 1_500)
        #expect(Array(parts.prefix(3_000)) == Array(Self.lines.prefix(3_000)))
        #expect(Array(parts.suffix(Self.lines.count - 3_000)) == Array(Self.lines.suffix(Self.lines.count - 3_000)))
    }

    @Test func membersOfEveryStrategyFollowOneAnother() throws {
        #expect(try inflate(Self.level9 + Self.fixedCodes + Self.huffmanOnly) == Self.lines + Self.lines + Self.lines)
    }

    @Test func aStreamCutAnywhereIsRefused() {
        for stream in [Self.level9, Self.flushedParts] {
            for length in stride(from: 0, to: stream.count, by: 7) {
                #expect(throws: DecompressionFailure.self, "cut at \(length)") { try inflate(Array(stream[..<length])) }
            }
        }
    }

    /// A bit flipped anywhere is refused (a code the block does not have, a distance too far, the
    /// trailer's CRC-32), or changes nothing the output holds (the header's time and OS bytes).
    @Test func aFlippedBitIsRefusedOrChangesNothing() {
        for stream in [Self.level1, Self.fixedCodes, Self.runLength] {
            let expected = try? inflate(stream)
            for bit in stride(from: 0, to: stream.count * 8, by: 5) {
                var flipped = stream
                flipped[bit / 8] ^= 1 << (bit % 8)
                if let output = try? inflate(flipped) { #expect(output == expected, "bit \(bit)") }
            }
        }
    }

    @Test func theOutputStopsAtItsLimitInsideACopy() {
        #expect(throws: DecompressionFailure(reason: "inflates to more than 6000 bytes")) { try inflate(Self.runLength, limit: 6_000) }
        #expect(throws: DecompressionFailure(reason: "inflates to more than 0 bytes")) { try inflate(Self.level1, limit: 0) }
    }
}
