import Foundation

/// zstd frames made by the reference implementation (zstd 1.5.4, through Python's `zstandard`
/// 0.25 unless said otherwise), and the inputs they were made from, regenerated here.
enum ZstdFixtures {
    /// `words(700, seed: 1)` at level 3, content size and checksum: one block, Huffman literals in one stream, FSE-
    /// coded sequences.
    static let wordsLevel3 = bytes("""
        KLUv/WRdEMUjABIMIBiQpWkx/9E2NUGTRjYhSd/2E9jd3dGsTaulief///r/v+r/Px0mApB0E0GJdVBYqs0YaRfuHGgERhIZMBQUuCFMTWwHM8xAqwQW
        SOUlNUWkDgq2hNJDurU3oEu0qA9zzZRaK4eWmnK1mgom353CCmviKds9PL6DqCzlCarccEhAgiaoIs8kSWVrDiIIREAsKtdGmw8SwMDJoCoRk6yyHHEQ
        8AHRZVfdbD+mG0CvCi32/HkuAtPEJkRQvXwNjl+jIGl/M6Sni/8IUCmjYdPYwiWcYcyjBzsFd6Y3awlM8xvJtUh/e++7K3nZ5EyYv02XBDOWojL3QDC3
        CiJanzpU1gMug3UuUdzN0O/kqPDvQAmv2iw2oPFkgvKwznXJS6cWIYryURkBP6v5zwEoiPuwgR4GRzhDatpZMfX1OLuYhYpRhNQ2Xlt/Gpb3BUzObOGS
        cByrB1+/Eyrsoq4QOtxDnKt06TTHUZES/L2op8bc5rF/BBXIgz2rAr9bztkep8GMlDBSp6EeicykM0nWolVBZxDaJf+HkSL7pj/oD6Mrh9+2rgp4zuNv
        GMD/dmnroB/Nje+ArE2TyWCjQPjDYhaDBOJUW6jlZXTFI06MfCu00Yh5wuFsLu42ksrgZY/EUuRfcAI3xK4ta+62FkhBLcuN2ufuOZ5JlCFQ2J4Y/DzE
        njuJBjGecWtxlzLJXSCpxVo0hUrSSTLNNxP2KRCwG0pdVvuSbP4qCnQmt88jSbkI61+LMGTzDiE7WEXoW7Zj7sNq0Ig7pVYLpKQ38cGcxBVBllSmnJyG
        kKiQhQWra4ZlAVP16jJSDrfDzkQnVXw+MDxKQc5DCWfmWXNEwXR1cQtTF1zLWz/b2arGdg8l8CB90q6D5BGwXzW+N/wkEe0I9JkKfkMdEEPxzKjQlemd
        KTJRQ6GFV84o7CLa3Q/IY5ySIZg/QSjahIuxnywGC714hU13uVE2+ocDKKMu27AORBis/DFdy30ksbuXTBwiZ53Q3aCmiYC5YeK+6heBLZO9nkXeUhss
        mSr+p5ejeiCBrYLrAaSkQoSXBtjTGTvy6khSyKr6ujUwfhCpglvSwJGIOOJthAVzFYI8beg1YMJGD3ypyu3oLywEIeAhrRxE9A03Hxnd/tWyhp+BYnid
        AWOOuIhxdTYebv9LCdn5W6bcoy4CWxbAQBGlaRqwJxda6WFkXyo0iB8WDBlWmS+4WycOX4915DresPQTz3OftENeMXe3nadES+yHsnkngGBKdM48Ol+r
        m8AsLkaxR2QU5TzeaNnoDoPOsR08vTWaTBTeg+uhMCrK5zkDKYKeJSBppnwE9EEzZcD365Oyf1ooNnnv/nKSE0ckfQVTk54QQHPPEghtYYWEfQAPiXie
        r4uYFuqVQbUvpBMz/kvHz+BfEclD8EbCnIVndblDDQQl0RbVwwBAFYxUISmK/FhQ4n6445F1sasBIdc4TGbDKha+TP9EIIUT8GMJFsKFGzp5x7mJnspb
        WgALnoxdeZuhYhOajE/a20UrjpaC163gS+Xv
        """)
    /// `words(700, seed: 1)` streamed at level 3, no content size and no checksum.
    static let wordsStreamed = bytes("""
        KLUv/QBY1SMAwk0kGYClbQPW4rutxM8mSSj0drFRJmRCZ7HshQF2zeNBT9i2fc1jm23b9tI1sJlt2zcF7eQWUZi6BOqrkA8+kU6ZzxR6TvAYaQKMUpeu
        wWUgpQ+l/rgVrrgC7YdMyxTVjQ16IrlF7Ii+tiggPJ4MTyJj6p4ptleM201B26uShxFPusTXPHa7mIbxJLJTigErKOACCIIgqALHIE0qNYY5IghEQCwo
        lUebDxJIlEHXIQatshxxkMAH1Ore7cdkg9eq0GfPn+OiIIssAkDt4l5wHNYGwh4CyEL+pUDdhehttmiJY/iaWp+5s0OzQuzN90geiP+zr+/wmdfgmIn5
        20RqMONSVOYeCKar8GCiZq80BpgQ1mQyLJeZX4qRBHwHqvt8eiggvHUYdrBOesFLqaYjyvgoIpyfNf2h2ArAEdrwIkLPC9RJG7dzxVTrQ3Yx34qPhTxt
        DFvsZFp+NUwubYWSgByrB4PfAPV3al5BO8QmjgQQPMrjsCAV/gao04227WJLZEavOVvJ8NoSku0R2AOskagP1UlkJgeTthauup6B+h35IoyU2DeNgtyw
        XFf8Ru2yOHc9/oYB/G8Pbbz027yRzpVrczIZbHSovzmGbvxgK1UARVv2rjjEiZFvxbaJ2EdYnO5i7Ea0fF4BSkwjkwbBcBU2ctnlFmttFhRiuTlhbp3j
        n4wyMRTB08P3I9arnWKQ/JmoNnJJSMILPvWpf1PmJB2SPnHzwD3Fg9VRFLIaXYaNqyLsZ3L7fCSQvTBztQhENrshU89VQT81O+f+oAaSCKY0QxbKdNMN
        wvlREXGZsv7kYggGFXFY2N2fWx4wQc9czJmIHXgmeCLFXgLj0V1yElRwVptVIIKnE5V1IrLLm8vPP3dudxO5FSXggfQEpgP+6LIrtaRr/iS+oQrxMww6
        QwNI4eTAqPyV4B0oElGrwvWVwhDvktq0nPWqcpyhmNtDiNsIxWhbLoOdLnnFjbPLgDfIR6dbqzCyPV9YXrlmwoA8JKm7M7nIQIQ4PxTTOKDYkLcv/UYB
        I9Pet1RraQY3zI70ueXwPUvwVt14KGOh4PDsAPkEyI68OiKUtg77+A2mR0YU4s40YSQROz4fQcAoBUb3BrwwhmV07R+quiPrJUOwAVXSuqZRErmhJOjt
        pxYwNBkHc1MKWDn8Zaqwk+Ub+7fqyNxHmWQPtoBsTKCAS5gzNKQXX1DSkUH+3NCZe4glMyr6S88WiEPSY46o4+0mZeJ1PifqkCjMCdvCU/7l8sOf6tQc
        snIXA542x9TzsjCojYhRyGl5C7UBOwxaxbbgbKtjsqVoT61zYJyomsMMwAiVS1wS8AgE+gNmggH1B4zLenRQakLt/n0kPV4kb9VpqUppTcGaij0OBc2+
        ACqiqI/qNswB9cpExak0Y5h/z6gYbSAin8UZPExa6KuDDskhMBNqCf0NAKb+UjBIVxQi7NShOuPjXo3qU6mMy5QbxqLNl+heT+I/+W0pVUDCXucYfUSC
        rXhCLaAG8Wm7H8xIh/cHTkvDVQ+nl3Ur
        """)
    /// `paragraphs(480, seed: 9)` (154,594 bytes) at level 1: several blocks whose matches reach into earlier ones;
    /// treeless literals in the second block.
    static let paragraphsLevel1 = bytes("""
        KLUv/aTiWwIAlGcAenj4EB5gR5s2Eao/1PRNG9kYPtq8QBBEkZSSK7vzgy7ZtqxuAeQA4wB4/UkUxIFQkuVAQJRkQZRkOYmCvynpkZfkIA7EgYAUDmNI
        nMRBgaU/oiQL4kAoyZI4iYOTKCdRluTcpl5JliU5xYE4EEXhMIaiYE6iFIiSLEtyTqIUhZIs+EUbB+JAnEQ5mgLD4GgKCsYw4CAoHMZgcDQFxUFwkADM
        SRSDoykwEidxYHA0BUXiJA4KwzpmaVnRDdV2WTDIwjQGR1NwICCJkzg4moKCOYlyICCFGp0Lwt+ZkygEBACSILAkp3AYA3MSpUCUZDkQB+JAHIjCYQwE
        TENQwBSMA3EgCsbA0QAoHMZQOIzB4GgKEidxYBQOYygKKdVInMQBcxKFORCQggBJTkLAsSTHYA4EpDiaBkkKIAvTFEUSYEBSLA1TSAYkDkLAHAzGwNEA
        MJqDUIAxEidxUDiMwTgIDhLAaBgCQmLAOA6IcxiMYcBBYDQIgAUxwAwwQJQCyeHAgTgQBnMgIAaCKAMOAwNJTnMcCAaiJEt1q6Jdt7J9WKhWzDSq83qf
        Zon0VDNUW9q9DFEXvWdHvLTTq7xhLtnqZNRLq3XtVlKW86fdWp/mHVP3UhNJ85rOJK21y0X0z3YjtVujbZXwLzSjrFOto+nzhyY9PLTuq4j8NfuR3b6p
        p3dZP5bLZYaYWplJuPk1I1Lf7y/cQ9vRot7rJN+OTGnrWbZe5y2p+fJcpv/xbNdbS2eKuYmZVt9PVSv9hYq+KvVt6vvZ+c9DfRlTM7NW9wrxNvOGplVr
        VZeuqnKRN+m5z2M5MTFfaFWKeru7V1MzwjW102xPd/e7nqt2bw3GM10707TNVHnH8k2lZkY9UizMu/6uVmRlvtL/rKlYq3uHhOVLO/p3pSbe5TUzUaXe
        GpO+Xpuuq1RpMl7tbOjvb71Ki7VZ6VKz1TXzllc9I6+h1ldtbydirfo01ZxpeKfrr7puF/owk1z31TbNaLo0Xfq4ev0han1rD03zsLB+hmbam753p0Wz
        xcTFrMxT6Wbp6XHVe1e9fDc6vNJVTLv+LvPpfi9PS7d26T7tXFr+GtrVC3fXus7NPSKnd9dMTU9rryM7lXRvhFhbVUt3ZZ8hrq1reFR6G+ISHu6RHinV
        5Q8TMV/bqa1iLrlWjUwL74i2Fqa9yA7PWKu3RKvqs9T6wuutnZ3Vz7KQ8mSlloZXiFmlt0zXl4626g6Nay4b1iXZi1IvbXcVf3Xksxrp0jeXCb0nxNcp
        7qnxVM/OaWl5aIVJt1NnGR7Z7tldnuUrb3tlP+b5papJ38pbX/7JV2R3zFvu/rSu1bt9366tb3fh+WznysO6s3ad3sutepmtqSs3Nam2vv7VUp2zkNKG
        lbebnixtn6eWh8a1u8W897aM9l/rll73R7VS337crb8KzQoVN9HMKHFt8T6Zl/Ywf6V6Z7t0VDKVBoMSqLIajMt0IklSUCg0BpIIEoYiQRipaVJzehJI
        cJGaYhAEQRCE4P9//zfpjMHUqo8nR6mxYwpFufPizQitW/6brWI2EfZc3EeisheP5Yt7Y2dA7hS06oRXjYGs+kLV6lTnbOgqJKV3+QRqap+I8/qzxs6x
        CVYtD/MY/QhsUHgCqOW5sNPN0QSceOmmLRC3VPxMK1HJdaPH4Y7ztCJ/m5rXXRirnXKOJY/307Ol6SPA17oiZzRR0QFY15pIIsHWJ9u1x2piGD/4DgJu
        4iZnDnp1DnROh4SddCxJmFCEwx065Mc98HyWUFxTgNCHBXFzHO4wMYRejwXmIQxHA7B931eFOKlmolesIkKQm/TKeLGKmyDJF/KxIc9YEhFcY4m8Bx/Z
        3TaiKySyvDU+3cHME9OCQqqG8qFluPZAfZqgcUx3kWyGPBy+nUTWI+VDtZ6pp3mGFpIkoYUCmfUggBgalnmjtMgqApm9S/A6SugGZ/NHEtK9UGFISykY
        fCiEYMOYG5oxiKC+X2ogzFEYyOgvxyf3MX2cnlUg4TDlj0Y5OU5yUsWTyMFjFyuAB4FW4BRRQTkFHtUeECpM0NbR6mvfAEnpPaS7N+YhlJJ0+nS9jedW
        1gldTSdUq2L60BZo+dxq8irFqM74jqZPczDAGQW7cTy5iH2W1vPQva04eIRKbabRU/nN99C/GYMElUGpjTdNaDa9V/QQKU1xna1pkbbFT0evg6w4ForU
        3dMYiuVtOmuB4lPfpxuYX2UXv+cQIXSYrg97nCJoPVWJdVB7iAKz5OBkUud2RTe7ChIKEWrQdHOcvJgVxDBpMxUSPdyE1x1CazrvJw9Pv3Zw6ATG/eAt
        6EJZhb3i5xAr5f7kxvEqPSBOsGyMkERaPM8NRysCXuJAFt0MzYiamFdo8XiTpDowLdMhnJ6bLOVmDpZCKRMNcSolnz2ZgkOWBvfZp78hD86oUxDNB37/
        2CaIz8ak4xiuUB/1PsA9HCAomFGZG9BRzefr1KAj9NFR0G/MJKfdxJOMSC/xthJ6nBbSm3yEDtLGgQZWtGPZELnZgbehE03i4W6OOn4qxPkcxFlh8On/
        fPoYQCiFqMjRIduukDBk3bhtByc6Q+grv8rP92sXayEhduqI2SChaoEmCBSaubynT9sNI8Rh/lD5vcndrV8389CtoRHKSEKR6v49mi/vgfdxTWeekV8J
        59PAHHQe4pItDO0gBUPiOVRqB9hGKnAknXezyJtF7CXzeyklNsunuo8I2RU2cirwcHxsnPelKnS2fsNevTauPdS4cJ6bByxAhCqsQoit8LEjEVHawHND
        tO7WoAnCdYgjoYf0OG6IVgJIuuawebw1EhjgUniERyKw6gXS3UN3n0KbjJ5a0q4zJd9N2LAv6TJ6sFFWGTY4bVd1DgKag54h3A8QksDqbSYSfWoF/GZW
        6Y19KUIM6eB8OargVMHTp0OTIeXjC/XfGKcWIU38DsIZtjczFn/mqvmrR+sRcpoKumHin0rbpOM+eYNVcuFwnDI0GVYvjxcdmIhrwinzE9I0VF11+BRr
        ypDAm/YEer71TIS8EKI3OcixCeg3R/Gpirt8JAIJUT51syf1m6MRJol7Y+V84db5bvLDiN6jJetT6qk30T1k7RISdZcc5t/N0ecNSm9UV35YG+okCVYJ
        UXNxt3QiCYvPRlpBjXAdUCMY8vdjn4VCoTsUKCLkZCm5sxvPTBDI+pD4ZAWlw0CIM5INyFSqL64G2JniUO3wxo0C7ZRO8IO9KSGXkxtIJ5FjqH1DbhyS
        CiDME3mCB5Q4ITnYCbHEzDY/DHHv8ISX/E4g9wgBuVtILojjmFW158jaA1aooEiKD/rzDNoqTyTjOGA3m4s+UsARWvz6jpG/B7S7QgeCbXOH/5Lkm5ug
        JptCTz8Jx9ImqM1mvjseRg498r3kUTivoD7CF/SIwkM5Nygb0x1+HdVgdgj9uHEzpcTQGtWf9tAdxFQGLYmFCGNhjzGKcDpLQ0TgkfTNFi0v9AnwG/BA
        nkzf5jHSWsE9Uw4/1x58lza0EFf2IGdWDnLRlePbRzWBQcO/Wi0ZaST32TF3ZDSRa9xKAQVVASJQ3SFh8Vnxo2643mQa5TjG2TEqBB2MURDknB7h6gs1
        9D0W9ZlTx1NydZXkTehKgSKng+nJtSV7ueuFxVSmIU6pxZMZ5QxcIbaDaM7qZo5NZBfUU3kdAAK/YNwX7D8rHUainnmmH9KTU/Freouh6eNX9Z5GT9Tn
        5cZiIadydkeFc9Qd7wtJdBFf0wY9gLj9Wi7Geu789feWvEMqRMtTiYchrJsAnmZpps7OapVB/4piFaGkRNyN6loS0CvSE+m+15/vwBfbgpfdl7kFPvc3
        jSsq/FMfvsPgsNg+7G9ZKkM1WtyQjWm2mxpQWGht4BZmfbwB55XehrVvwKCTdvDgIQ3dUC5ciWXRMIgZ1u6BKBbXH+jZmvkQosXV9xplCHry8VE+yMwc
        JNKCQwZ5+4XRL5hOJHzwVdQoBgACZPOlQeqADXD0MqcOsgY1d1zJMZOM/47oeIyFiiYN6gFNES4E2ZZQ8h97Hda8oU4t2G5/1sAYXTMq4iXSvUETozg5
        QNn9pU8yjGGLgr5h5y9J9MAU/TIByQbh7Tq9Keihhp64rkYPr9lZB3JOAmYGCQMU4CsxD5zzkso1PizLu/vALsh5Vg6RLHIasbq2IY2Se7QXokETyX+i
        619Mvymty7+IwCuVTv6zWVKfuiO4RIhVhRK4RdjYdoDrpO4mEJPCQe7zjYigOBKeO0UtXohSyuehn0l61YBsarcRhESQXRsMOgZIjCFs4y5chy/rXi0j
        EuJb4lxdM5C2ZtBElpTwSKyzfn/DDIUvDHULbVFF5fAltcMVqeOips9wSo83fEPXKdwT/8PI+Fns05B4Hm6vi6q7iG8g0bGY5BC14478oBqXnws8c9Ed
        neKus58sHrUdiNAiMA/gw7sOMK39DQCXUCEgACAAIABGr6JnOu+KjHsmW7Q6jamkhnj/XXZWLyXMa96L15/dCHhmakmld542TViGaeU9p9btblKuUhG5
        0Hu3tV368elXeXS2Wjyjfc2yS5Wer1yjubIWFbfK0Nb4OtpbdWTDOwzFa9Xq7CS7Jc2n9dR/Itpul1VvmuktNK4VmgnX6HkBW6hwhBIfcYSHKKWclJQP
        EkiAUCDB//9/f0MOxqKzZ3hvhGbioYrHhBAhOGQNYSQz+1xMnM3dwOIynqGRmEVwfUMtwmH2A4/pQh90dusItXV2/McMjajn5THpTJvlZ5D2D090j1rH
        nXahLsDn42dS5aEK53h7E5MAiYh/6E1qIaq9FDkXl1UpYQuNQ08wA5MTp3rex0cEeUxT28GGaPt0iYcKZE+IaRSaQx4/ruhzeI9UBiURiU+oGnyRnBxt
        cw/mj92kM+wbulH7Ixx4Ro1ACJtun0Rv5+wqqQdSMvQzDXxyD0CI/vVvjlA2VhK4gVKbX7/oWKTUqVsYbsj+DxXs9OYI5CP4N3nueXyQUEWnw4BEAmI2
        HjLlca6Q3zd+DijkXFOI4SZEoN8xdRggmTw4zhNiG5b8UgFjKNiu
        """)
    /// `paragraphs(480, seed: 9)` (154,594 bytes) at level 3: several blocks whose matches reach into earlier ones; one
    /// and four Huffman streams, treeless literals.
    static let paragraphsLevel3 = bytes("""
        KLUv/aTiWwIAtGEAqmCkDB1waVJsgOp/VGu/PcKaBqmdqqpwMkmu7C1w93/9agABrgCrAH1vdz35WVcl8vrOlU5D/Y3qzpadmdFnYhXZ7FNzpIckK8mz
        lNrMtxdrZWVnDWlXR7Z9u7kZKc+1VjO+ENHpRyXt9+p3o/65I2nxfsMwyHY3DMMwDnVXDcMwpvgyHofyqeuQGYZh3AjVkDr94ABwNBxgUCwYFigEGAwQ
        iwUGS+wUCYkCBsORSGgggFBIJBiIxeJIIDgUFAvDSARYSBgKC4WAxEJDwsGgQDgoEiAWAA4LxAECxaEhoaGBgATFgAOCIeEIcFgoGA4SCQ4IBAMJiINi
        wAKC4bA4ACgcCRQLDI4CCBIIChAGEAYOCoSD43AcBRYQDA5HImGBQDg4HAUSCgF2cv5IFU3SQsSWpsrteYqE95alqHyS3pGckOxUVsX3rlp+2JbqemUj
        pLozVnK7mbqODZ3jqmleRTZ0RLtZOry0jmzo0uZNjLXfpktn9LIz2VnJWX9WMzl6yFxVnzr1kRtyq+OT+lkzYizRHV9zt1O1qHo+KdJ75jK3246OyPgX
        y3Kmyo5mJmW7Z0SudPpZpuqQuO51TfohGfPGcV0jy03JqJz7XzR2TQvNldnKrBdUduId0djyus7RnLVTIfvKXOtIrlhGP30owynxfuoVfSYqKZZsXv1L
        O6uX9VSEbpncdSs/n7R+nerJ9YmLNlp50zP772ik56njfeObFH0und3UbIqo95VvWaUyk/L9jW1aFbIKifXl+52qjqaaMypWeZqaii830cU1LiuX0Wjj
        0b189UuepY9QEc82v184pfNNdrGQW57L3lNDPMt2zzWbqURqtV0zN3fxSdV3h258ZZaOzLHoVe3NZahaVr27G6/3I09peBpjXWbsU0S7sZsmJomq5WGn
        yGROsSMbu04kKfVaQtZPWfWFJ11Z6Fp0R0M2NmZUw0+NUyRj0xAZjZ32Mf1l1PPuTG7ae2d/KRFlPmb/4h591Nvjfl4WlTpUGhX/Gm01mUnOuDTbmdDu
        iWUh1Widon0+dxm78Y1ujKrlIXLZTeaIf/P+81/H68fmT9aUp1yXqcUBgyGowjsWB1tJPQqNAYIIEoYjQRZGYRZW9xJg4XCOZRAGYRgEIThBCP7/fjfp
        3MHUqpUnRwm8YwoNHZBuzqyoFVq3wG62il4i7DlSfCQqiR2vIhSE0wcThqQCR/Qz6RQUd4ARHOKdbC9vjIGsbkLV6qnO2ZAa9MCe869G8gnUYp3kWeDU
        IP2ssffYBKusw7wDiNEd+hHY0HUCaMhGULftcHswpjyHmoL2gdmiWIYRIlHJawf9BiF0UQsDh/JyiNV5zrFk+5+erUdHyBHC04mLnNFERecfrjXRIr24
        Ckj9HasZw/jBUgjZ+uYl7p4TxRydA13pkLCsjiX5AMIeBE8ScOiQ/++B55eE4poCCX1YkD3egwRqxmVeZnlgHpI8s4GrzRgIcfIEolesCozIWzdB0i3k
        Y3vBg+ckGOB+AJHlTe6ZDrrnLaFONNSPpNoLqVrAh5Yxo4fo0wTdYrprgg2kw+GYARlfiKxHFA3V+k9P8wxFSJI0CAUyeYNMxdCwDDdKS+2LQJWOEqrY
        ieMSZ/NHUUj3ExPKTOkFAr25gkCee01yD3BBh2GMqBYZ/eX2yX0pH6fnCyDhsPuPRjktTnJSKzu8jlE1Awi+PAg0CKeI+nQMoVhHG5/FndFCqDDhqKPV
        p9WQd2gRl7ce0mt6esxjn64vOiNjefVxs9DVrIVqlaUPbUFAn1vNPoxcyvo0B1M4o+ARHE+um8/SOsPQvak4eAiXgSHrbr6H380Y5MN0nP83EUJoNn2J
        0ZPT2RrocoDri9TXKRSp45ncVywaiuUvnbXA+9T3oeaA3MDcil3c4hChXlsjxBGtwLR3ZmNV1czGznqhp18WgphDFNhhDk6WdG7Xc7OrDEIhaoGOS3Bo
        x0mYesusQF1E9OJFCYBGV7BfeqwZSuf9hOLp1wmL0x86gcl+8BYoyJ+AXpCywUDolz+58anybAQZlr0iJBGm57Fd+vBXLhzIUhyaEQFiXrHA4036cYgm
        s0hX1SGczJssRTUHS5nJREMwYVQ9O4csje2zTwWHPDgrOgVhfOD3thueMqIG/2dcrOMYrFAfTX2AuwUICvaEiWeVBCJ9vs7COkITDjAK+EzHYyb5r1Fo
        J01ookhIidXKp1OF9CZSQgf9wIEGut+xbFDZLKxT2iGxhk4k89lAT0+jtPTMKSM+/R9sHwNoWYiKLhzMuZifENyjojyhryTBKI5EISFW42A5KbtJFaFq
        oUgQQmjmmZ4+JW9ystmGHyrD+tiY7EO3BrhQRvKEQQa1j2sK4Bn59XE+DR7Qk6UwZkNc0sfQDtIfEs+sXojWiSPp+ptFXnKRXGwJwtinur8Vsit4OjeD
        3CBWmTN5VLKeUf6CKYrjCO09i7eshxpf4pl5wIK2UIV1QMajEuqa7MjAQENg0ARRdIgj0kN6HHqkAonzi6Y+dqfTZyuYwg0DXGR5hHswsGrRp9C266kl
        +TpTstoTg8J6sJGGiQ+5OQiIJLSYDhATPAyiTEgCm7aZiOxTK4T3cN1QIYbIcL4cUnGqYObTocYh5dMJqd8YpzYQUz34py0IZy9tchj8sm2P1m/Jaar+
        honvwYDY9wargOFwXNzQZBBjjnQKplwVYSCfEaquKJSAkE+xdjsk8FI9gd6nZyIUF0L0VoN+NQGpxCAA5Chuh7n574Qov73Zk8vOEWlvYnbzcMzo6XzX
        9oeRe4+W3qfUg84T/SUk6ggdilrWA+1uPUuxu06SJpjD8dGJJAJ7QEgxqBGqA2pwDfl7Ez1WgngRjIO0BJCza9gRjet8YIPOMBBiHSZepnZEcKi248aN
        2jqlD7rV+v9g7yzk8n6zubz/bqh9U/UoivAYYEQeUC5CcnAuxBL9bPhhiDuCJ7ww7QTyOCEgxwrJBWE4ZkXoOfJ6wApPUKSHD/qjC9qqsQj3g8NOlZxH
        CkLAMiaEFn+xY+TpAe1FQgciY3On9yXJqTdBXjaFWv4knDiboGQ22DaAhxFIj3zv8AADaFAfYRb0KMBD+V5QNsR3JuioxmyHEOwbm51Smv60B+cgJkTQ
        krgQYcz1GIMfp7NwYQTeE/oEZQ1C6HbNZWb6nHAPaw4/zh58c9nQAhaJoK3f0ljLHOTaYTJDj2EQaVngkB5UBbEXglxvVGgRBHlgj3DNCzXU9VikMJKf
        7sXSZ+l9Rwpv/JF37xV0uf8tWESltncp0CxKkDO4Cps6gAFCvb+mJmIPfanAh8EADyrgfvJ0R7DfC+42QE09yvOKiMV5RQt91yaLnY2rTAdUwc3T/MYk
        GgloTAdsKo831OTL55VNE9WJNNssDhx+QNVxCF/y4DXPwN2ul4Sux4rvgZVvaZ0GMWNgKbU2rsXfPwpXAeEx9SPEw8iVVtaAQz7V6YMhRzW2ZaNsfnnY
        A568dA+POoCU+zQc4dkIkR6zy5IaGMJfMqnQXCbmj5CT0mfowC124FdMzKDZpNG3b7u5oAMg9jMeODbo7PaYYhpGEDLNP0bx+mTokZOfXrIfMdW70Zs/
        EMUmM6ImXH9oM3pjwx5oSvz5ZAAc2XKgGvEBGCM7eWZ0ufRXUFHjTeiPJVsHC4Y8gJ+jkTzGQrxRXRGspMUafCCmGnBNRBZU4szanONrpOyLljIhhWF3
        lTVTXeG8Ir1eqg4pf2N/agKWOqRWPoksxWFJJjDsQh0FbfXWmdNg+ehorfAyS9IMsYP1XS+4gtiAMaOGc/xn/czlRVs0V6Tr1PgSOhKwQ6QMKGsrcRWH
        BxRelhN2dIi9Ulyr3QO+mu+4Qc4Xc4i6n9NIs7tnFIPWZm+PqhTirv+ULrRyebO3vuwiSl52P/r8YAXDwIH+RNjonyRBcpTBkLQEyKKiuBc2UALvLSWU
        C9g/QEVcBAKO8luEaTUcBL4qCa31fvyFyGzIiRFwRdAqTOY9ppiXke64Abvjyr5MLymIjc2baUVP0ocmTk7dlO7ip+oxqN59p4LhHo4FvbMKhfPuZQ5V
        UlWT2VtxFGZuEeMOi37UNPa3/aG6Q5IykwBEE6lRDN5TVg7FiCx1U6Y4x7XgHNVrSV0kouyZGp0bw3Ir7OihD4RBrXXrypCcD9ER1ykxELvajp20iOUD
        rMtRKcVWfQ0AM40XxukbUocsZ7f+VtV5y37OjOWplEduZCTUoYta7c/Y8k5u582tKY2u47hVrUmSThFV0cyNCe+1i62cYU21I9k2MZ9QpPxY/rr1IydH
        blYjaXuv9S+HhudJ2c9e1+8/BGGowMbMB2GERxiCoIRSHxJAQwgBRPD//98fQw7Gj9MEp33agqIn0VYeVAgR0suN3JA1RFBm9mVMnE17A4vXOsGxkMHE
        LIK3HYL/l4S8dAoPA0sgej5yl62MpyP0dXZ8iBkafvQgHpNumg35GaRN5YnuIXTcaSvUBUDy8QNg5o+PDwmAcuhNdqFqwfRl0EwU8RHyLkRqXMPkxJAH
        8mJMfHxEJ49pqnawISD06bKHCmRJIaYRds7x+HH5eBrEYRCAyyAr0C8QqgYSpiPOm3QG7g3dCPoIFx736yiETZs+ifRece+cXbU8kOgS2eTQz1T45B6o
        IVMXc0N4FDBW2vSInFLHIo84CrLgdEiNR67Gpi8I0SkMIT+8I6Zwkdb0UG8qDI6M108gDA+FllxNoLPHBLqBOSYh576EGM4JEehTTB1GKZMHJ3SCy0+O
        1iUK2wNjKNiu
        """)
    /// `paragraphs(480, seed: 9)` (154,594 bytes) at level 19: several blocks whose matches reach into earlier ones; an
    /// RLE-coded match length table, repeat offsets 1 to 3.
    static let paragraphsLevel19 = bytes("""
        KLUv/aTiWwIADA8AwswlF4DPAZDIRkTRI7Kh0MuImU/Ydg130th7zyjekJnpXjOe0IjmGmC4RwwuEDIzCQcEQwLPCAyED6ak6B8vVxLbv7I9QCActpOR
        G1LNPg1z/7knfvwzO4E6n3elIQpydEa92j/0F5lcKUhlCvRFN0JO9D0iXekyEVz1Bdqoz8fDlUMYO1Mz1kYbqTMIK7MDLabc8JdBlJ1+AoCxqCFTGlHq
        UWgMIERAjILu5hIgYXCyGFRQKKlR//8cHBwLK36zmiISQicJPV9gviopQJihL9bOekuFrHAHgZqT7L4MerEPpYFCs9ToRzeob/WYlwsXt8KlOL6aq/iy
        yIQoDncwrGO3qSCAfx23jzpXzjKbhwErtKhuRyYHXEiQhZ5BCLogZvog5ztSDlE3yWmErlbKY20Wf3cDpFuZhQkXa2PjXoyzfFwDY9T3EMNDrZMh1XEy
        vvmNDoqxAbiztD4JiKcGGnuFVFbEKx25JsxgxPaOI2hjSjxGahyq22UwveIJS0CQrDmFErkh254+Zs39JoyEX2hW4b9GrpOwmcrK0YlfvI7Yw6n99iFs
        T3lk5hO1qpqiwYaydvaTYgM+7umO5gIPc84U3LTnTNDZ/YCmKLpuBsJBI3XKl1i1I1GR/UPhV6CrAjwQAGLMFwnAO5TJLvmH8wZS1VrFiIlFIuv2tOv4
        R6bO5r7izkemP4f8lWiSK9eMaIq8kHgr2Ybd9nXRYpx1nlYSiR/JZvJUVZ0Wi0hQiVuSSD1m5nNPt6rXdB/oF3uiNP9T9AEggLGoYCXRAyBEQIhRqqzm
        EuAwtAgnUAiElcAQ4UT4//s2hQbyk3CibIKO2cyXloeRDx/uJ5UHGIgNUmB6gx6R8lAePigbjd0BQUc1dncI1X4DbqeU9P3THkKCmK4ELQkgRBi79zjz
        vnE6i6QwAm8h9AnyfwMeEtiZvtkcfp7vwXcHG1rwYfZ4y0Fuc2EyYwdPk58GVcHsC0Gfv1GhhSDI/3uEV/tCjYoei/JuweUDp7cX1tdpK1QDgAddxXcD
        WBQlLfpC5IRArKPywvO9yHSvgwOu0v7ex2IfwqCjkXidwlA59/i5psVGwqysz5NhGoTFs6IDtvbMVkPkQ00GEYilNjSw69b8uJZOvRoD4oRzVqoQKBNs
        GsCw6rLqm9kykhADcwRLRkgLoKOeTH+3jAJs6yw7Rs6Da3+foIy4uuxZwDFl6dzLSgaBcJFLwsgksqdEO1OTxBtPb/FwFGQmw34HR7M09HgMPFC+7q5u
        ow5wsM7RU6Emoiem022Qd5Q3sxwyx0IutkKgof24IvAKa4AaDnBBtnRkbWkcZExqhZhoDaLDDkxcAzQ1ACpPmAgIwHehZWT537mGAIYAhgAQk49CxjvD
        Nq5oO8Z0KIJYXV8kIVxG4lSiPcQx6+nkRJuFPCQaqjiUM1G4YV9AovLb4W5kp4wnI4SRj1QEJqyJyX7VBSPVysoD/IMSSHSbiVNz+ViYcez4AdBbOuhy
        y2aT+BmNSqRMiAjQcksA031/0GM1MOeuwDXQgOMScl2ZYdTJQvOfC41RFR+Rf2aCjsWJe+S3QobH3cioIuI27j2Nt8GOItB+ZFFZmBQG0tPz+ciJOzxq
        ZAw2PlEFHwr3djBlCikhcghLzOb01G9Ed8G4GA9F80NofE8OhrmN8UVrTPQWtXjQdscVi0eASm1TGs3Bj0ErA+MLyHBEGLZoJ9LtWBzEvCINHD3ozGAC
        rtQTR4RkTUMsIxCOu1/QEKsEQSqGXNccJCNfNpKxtDZT7jkE/u2OY/7xz6liep12/BGUggNBUxIILfO9avAoX8xssuGEQgSnnMbaSKtCyM7oCzHSlLOd
        Qdn3UYBCXcy/jgzD443A6ERn/4aM8I1aBYiZS4G7buHjgZBC+dEq9v7sATMsIQF3tZGHYmh4BJrgTrZD0UFjGZ5L2Jm5xHQe/MyapvgkQZCDYiTiwicl
        QrNr0rhh4BCIGcbSiooxAT1AZiLbwy8GXaeESa9GgfUhyMeGhk25mYlEIqOCAtemEuJAnjaZ5HF5oZ+yPmZG4H7n0R+6BWinXGL/4IZnb9/Zcq83uK6h
        NWSMV8IBgWKkESAUlH4hCMEKRGEOi3ssN+kcmFp1nhxFuWMK1Z0XbwutW+pmq/iJsOfiI1HpezZKCiYMyYIj+rl3CkI64aUYyAqhajV0zoZaSEoPPoHa
        +0Sc/llj99scUuNhzvQjsEGeAAKeC6sejCnjA7NVK6Mf2qNHjwkUZp9zLOnAT89WfQT4nBc5ow+mv4UwRrHC+IELIdvwWVaYzoFuHRK2OpZkhSKcDB3y
        sQeef4Timkjow0I93oOEXo8M81DzQV0jhThJJXrFSjAij5sgeSPkYxt8lNYXhs0giCxv+HQHyhPTVEjVuD7woWWATxNUYrqbm5cs8HB4RSLrkcBQrW9P
        84yFJEknFMjQIf+OGBrWb5SW9BeBqqOE2jibPyWkm2NCGQODTxeCDcMNzQiMEYWV0V/1yX3zcXroD+ug/tEoL05yks+TKDx2MQgPAu04RdR0DCHzqPYp
        VJhQOlp9dgMkPXtIh55doufT9ea5lW2hq6lQrXr60Bakz63mYOQS82kOijMKkjieXMxnaQ2G7k2Ag+fIwJD55nuwmzEoMB0nhGZTMUZP1tmaYfARSyhS
        fMzMOBTLV2ctgE99zz2hnTqVCtZhut4epwjWU5VAIQfgQxSYz8FJ1rndvNlVKhSiCyHF6hEAACZtNiHR5+Mcjc77ifL062DoBMYfvEWEsgoHA6Hz+MmN
        S6Z9CQlJND5UKt3TqRUHssAPzYgV84rH4026DkxjOoTTN1lKnoOluEw0pMCoeu6QpbXPPn1DHpzQKWg+8Hu44SnvDT8adRwDCPVRfYD7AAQF2zDxLD5f
        J3M6QtJR0CVmknsTTwam262Q3sQQOgjjQANTO5YNvtmBtaETqc8GZk+jtJ45JT79n+pjAJtCVBQ6ZFtCwlD3qOgLfWVgFEcUEmLTEbMnVC3gDkKhmTs9
        fRo+yuD9UDkfGxNi6NYwoYzkMMjgfFzT84z8gPNpOCOIhrikcWgHmSHxTOGldoQj6XSzyAsYyelT3aeQXUE6NwM9iBXysXHB0AeX0NnUs3inhxqfjxI1
        HrBghSoshNgKnMdZdmCgERhKiNchjthDeqhHKnA+BzzeGoQBLolH+GFgVfkU2tSeWpI6UxI9MUisBxsKEx8+OQi4hBbTQ7gfCUlg3jYTyadW+B6uKxJi
        qOLkz4Y4VQD6dEhDyhcX4m6M0wlpYqkgnOkbfw6DX449Ws/Paaq8YeKGacHqBqv4cThOQ5MxMEaJwpQrCgP5Gqqu0KdY0yGB155AT++ZCEUI0fMMCkhu
        dOpljuKCuflHiPL5Zk8eeY7Me5ozne/mP4y4R0v2KfXCPbwAQqLOOhT1eqBd9izFSSfJwByORieSKPpsJBTUaDqgBh7y94iPC92h5WUh8NRC4fgAGUQY
        COFh4iXeIQ7V1o0bJbRTOvrB3kDI5WoPvuRQ+3b1KEo8Brj1KJcTkoMRYom/EagPQ9yXJ7zcTiA/QkC+QnJB4JhVoefIesAKVlCk8kF/EhILJGCmEXyk
        IIQW37hj5D2gvYUOhLK5MxiNXbu5LgFFDADizx0JwDtEmezyryYL8BXJxm7IVFBf05D/kpbbM9GFWtdoloziYEm8nRjLakz71Nkjivd7yxSvKxJrE0qZ
        O+3aJiycIUeEpLG7j6qDY2Wu0qaqGi2KRXh0zaWkKn6+vsRrEm/dmYVZ45DRdJeCRMj5PxnZR8GeehdPn0qoIERRfiEEj0CIAjnL9QES2EHg//+fP0MO
        xqizZ2BPomV4KIQIkSFriElm9lVMnA3fwOKfZ2gTswjOHu/q8pju80FnmDpCq7PjUMzQeB8SKo9JNzeUT/QzSDvHE92jddxpCnUBgj5+Emb+Sj4kAOrQ
        m0whql1ifJI/9ATTYHLifLC38fERgcc0zR1siF6fLjdUINtCTKPo6JzK48eFfQ7vioHQY6FqQBm479+kM/IPc7PzjBpbCJsyn0S0c3a1Xw+kMjQ2CJ/c
        ww2ZulA+2IiPGdfWsUjo1C3+huzjoYJtHxdG1kO9aRn2gwFjjQn5fVOn4jeEnIuEGD4hAr3G1GEsmTw4Op4QG/YqtVMaBGMo2K4=
        """)
    /// `paragraphs(60, seed: 9)` streamed at level 19, a block flushed every 2,000 bytes, with checksum and no content
    /// size: predefined, FSE and repeat table modes, raw and treeless literals, a raw block.
    static let flushed = bytes("""
        KLUv/QRodAsAAswjGHBvAyBtr8YkMNOwPEX9fxMRaXyU/lUAAVkERyAEACIQhyEMRWbmIQCDkQCBDAjjhCVIo3+sfElrv8qAAIrDXTsZuZ3U7GuX+88d
        8fPPbAV2vveloeQ4elOf9hP9ZZGr5KRrcc7oRseKvkfWk2573KozcKM+J48nhxY7UTdqn33UG2NlduBayu1+G1N2+gVxqBFTRKLUo9AYIERAkJLuBhLA
        YFg6USygDMqp/1d54jw65RCtJjmNtCsNajf0xG/bgNzVdsXAdW3WGNd1gsdXMTo6BOq8xjoZRl0m+LvcWEEdMwB2UtsngFHqq8tXXHsiwFLIyQQ1RiRB
        OIISc+Xlc+MEXS2D6TcP2AHy5M6Aktgdtdu0Y9emDKEnDEPLKry35TKJGk9u6pAuXAfqzWS49XBgpXxy44TVI8M3iKCEzj4l7sPBfV0GXeDhE8yb20+u
        BJ3tj2Cq4BqZOAeN7TQ0sWpHoSL6w+RXmasCdAsAogIIDOBtYDEmRfbmymAQIVn/YjZQrcP+ObK3rX+uthXHjQGAtqjQVTogRECIYu66ARIgMSxPFDBy
        lkHq7P/HAX+pBQnRzSark4ZCufh97cRiwOwseV1MF2LxdibpgC0fJTWRG5ocQcRGGw+IuVU7bknwChpoj2pOMQPBJmxaN0R1aJ01myBFDF1fmlFqHZ19
        evSjZ7TZFl62ZbNz4598iky5cZxhvHSks5edjEdAwSlsTOiWpJ5pkEQKr7coOBLVTONOgtaMocZvi0ZysCteURp4qgJ6gsoSfZjLjZMX6pq5I1OMtGwC
        GtH7sIJ61UpRQ4Bc2TfJDlIHhU264Y+tOjr2cA45BtbwDTuKSBBCsnragb8qVoCajdetjaWWCejq7U6xlQwuc73WRzRSqEndP3bj+uGY3wjL1GotxfPK
        1v9lIQ8xnHeorpM39SCA98rdImuu1mab74AHEarfgUkAKQqIw5zFCTyECiDptYAE1AIAo0EDFrnDzHxuUxF3L/PtAR/MSIKydt+o0GntIMhza/cIFy35
        Qg3Y2j0W5VYLeT7N9ILCc1NbSs0BEGFWvhsAqkVlF+2QNUISLKJ6w0O+LKLK1dpLfhr9nDgGjAEAw4EDlgizzd3dycREBHxiVRQHwCW0gOqG2SNUmYNc
        qEqYzDjq5mkyqzKoCo5KCEpzDuQBANKBBQrg6eD9vrvdhBMB0hlCyLBlT8ZazwkIAAQuzgEjcKgSoU9QVXIDHqpKdqbvqDqHn6ySHnxDlRBwBbwBAKIB
        BQjAd0mKpIEAs3A51fL2rBPpk+gIBwCglDAtP+2h1BHERKoOWqIqESKMo5IeZz4qBRRDhUC8AQDCwQUL4OlAkUzKtOWAKAFdcKpCa5ewMJk/TAcAIcoz
        RYKyAVW9A1SioxpH1TuEhEpugKpWCrAB1AEA4sEFCrC5AUSyKJBhcwxA4pD3i+2Nqk1n2XoHAM35QqrwMBIq8eF+VdU8wKCqOkiBVVUHAVUxjygRBMwB
        ANBpNDcyMzA4MTg2ODgyMzQ5OTk3MjE2MzUzNgcALHeEql+S/Kjk5lWJTSGh6p+EUyq2CaKqkhSwAWQBAKAyNzA4MzU2ODY4MjE1OTE4MDc2CgUAQot/
        KtkxWirpAe1VHUIHoiq6AwsgAQAAYOZZEA==
        """)
    /// 400,000 "a" at level 3: a compressed block, then RLE blocks.
    static let runs = bytes("""
        KLUv/aSAGgYAVAAAEGFhAQD7/znAAgIAEGECABBhA9QAYcVgNOM=
        """)
    /// `noise(300, seed: 5)` at level 3: a raw block.
    static let noiseFrame = bytes("""
        KLUv/WQsAGEJAKB0QyCPxp5dApgE7V8+usu0thmGsmaIIwSdsUiYOvLYQaxm7O2Kb6WR0USF3l5/n1B3rARyFFpgo7dCc/8SlHV+CzPXXenlbKlzLeaU
        Kg0t8uLQ4UjiK15Hkw02uH+VdjXFfhZhHXAqBC0C2nSo/oJ7bOOpVOWhnWCLUAP6gjGxnauKmeB0SUlGtvNCWG+YD5gbIRyfEUK2nFxwY/lPr5sZScon
        HA0J4Cy2KNjqT+BqH44KawtQPjTRBx4Lcs6O4nrkr0jvU3M2fbTDOS7AulWBDXBSP2YTUzrO8m6JAWN/7azTIqtjwkzyN/GD+k5QbIjmf1TA70joZpXV
        +SaNn4fXWaakzamltmdqb8aMVAqiplr1WI2tjLTz02FEGK2B6+dz/yPB+UT1gnengPPa3jM=
        """)
    /// `nibbles(1500, seed: 3)` at level 3: few symbols, so the Huffman weights are written 4 bits each.
    static let nibblesFrame = bytes("""
        KLUv/WTcBOUXAMpUTAqOVVVEREQzIxCfAKEAoQCevhdolIYTNR4NZl6mRYQH8S66x/1dS60QDAkLK+u5lJXCzGipXDrVbRGLxtLmIKjq00zcCGDaIVEX
        uDMgQXH22FWM3PpmxKo3DDO7uGBHmV7yl4xx6JL1wwcaluGvjV8RRfrFkFSWHI0K1wtZEYuDEnBTO1ZksZHmBKSKQGwXo/WCrCOtmKUePyYqwsFF9EO0
        G+ZKI2dFdOEpQeOb/wFjpumUE/f6+4unqjBG/p8rTniGfkN/Tsd4OyguiOWIv/JqwtBaAq9xKb4y6Uk8qMv8tdiP4f45DNwnnboRVBSUnwalDqpQdFwY
        llDJlCIfzCSoBi/Ph/6ILUnAFfiXIHdTxgkhhVGQvFXTwamI54SJeSLlDIDkNoOAYHF5GZw9W8+KZAAfzdohNkXSCRMl9jiZZfEWZ3i8ATJFgCI7B0Mp
        ATTuPsgzDUpIIBNhDAJGAXMTiElb7fQ3iXT9BBLoGibC0QVaMJZ7+lWOj0VmIeV8dz8Qvj5YTFCUvyWgQCOifdnAiHO6fltOrGgNWb/ozJno1QDadtkf
        Z/fLCXHEvJIXEK4ywVqicJ70G3fRMyHYBAWPTSvlQLlXWJecKrc+uLkxKTmMw7Cg4zL6W0Lz9GsQk54xYZlUC274JkKsIQU1qvsClSCG4VPTA0JeSzyw
        RB49gzG7PydiAJwDpwSEcwhAVE/9oRPiEJQQyRLjeel2cVK7MPnbb3NhFpkkPnJsLtbhwqXEebChXGgghGXBKjAGiA8vihmunM2+eqBJZUesC5FTgLXC
        BAEQzBbu4YjwcAEMGSGho8myDT3i9nPvtSYi3YACPxE2U1YFEt3QJbwTYZvSRNSjVCzzBEfhSE1yMa5rA5XaAyMgEG6MY+8/NfFQonYwIt2Xo2kjQXMt
        7Jp1MRYTcvtyixTWOqC3ChNo3/lt335DCVoYucLIiz9aQmCv4PabrC4cdJ27rza3E2PF0OkGde2BNs0NCrd9tm0f0WKxHysvZPPvbLkpNNsePw==
        """)
    /// `letters(1500, seed: 4)` at level 1: Huffman literals and no sequences.
    static let lettersFrame = bytes("""
        KLUv/WTcBEUbAMpdjA0VkCXt6FtrzbqJSMLIJrs5dnd3dw8g0wDQANAAhIsh+Gls4W05zCIeADJGnbpUZruYiAw75Jg5csxcztAhlYF42Uq0B01qg6zs
        tL/fwZPelsOXq7rtQisCO5msknpBGFv0VvoIbOroGovNYAkZYbi/yjgMI7FUNGMGYR/ReeAIeGXlYcm798d9NuLzu4szA3xW6oVz5Hgbl1DmlB0BzaEK
        uVhA5UaSFB9BbmTc95tDuYGV8NvCWg2H9AMyP74Y75DgY8K4DDx08BkGb6hw/ZlTtIN3JkCihD9idjB9xJJFILlB1PDDEKDku03eWWaZAeh1xbD2M9JV
        5sxYoUk7unr3lJzO5LKhzumG+d1QHDUU2Iy6IzWUHn+WvHlK2PYSDf5ns5QrJe+ujIdC/OL0pCetygz5FdgPX1DkXKmhcRy1tEXBmnek4u1mKzUNdY1l
        2gRP0ssFqvqKZwhMYccUONDI8jB8b0ScukjIJE9A7QAzjZzVprjSZFo7I31hWRpKs2u83QB4GYX6ylXiCZq8MRfmzCJC82OBWiMC5sTUJ/d87obpmU4d
        aaeFhPbP6XHF1XobdyxQwoC6Oz0RHonISHEjmXwVXyCYQ3cJz0li7TNl8p3XDX12ecX51hvzzV6Vx5Phxp/O+3xstvo/I4n7pheb46FlGfDR6qIYNDOu
        SIKs42pkp7fwplQjVb2kC0ayOBc7qGknyForknVXRuU18RxYSriL7hr+RwCDq7O4z5zDEFYdgfg5fwmWYFtLikkE8AWt7Zn1wKZE4QZhmItVlz4MNil4
        msuHnf2NgYPTQG1xgtxV7gWC70sjF8IKlC0ufoEXtat7yBaxBBwefIR6rg9XjmcTS1sZmAC/cHF8SqYBxRSJiIHOjvG1OJxe+VKDkQ+yrwFR6t9abswb
        cUQ8FizImvlEyJMBNHtfZZbW1E4HreyRYy7Q9HPDNR/6hu0lIPdafKm2RnqONMTlEEaxcWxMzXsxJEp6IIl8+CcAocwLnzhrazacyQYoDW4lGVJTZwGs
        3lWCYJFLTz2woDWL4ZRCkjPVIVyVMAbmuQ1ayXacsIr2RcS1ZOjkRqKOpt1wdlzja1jyQHOcABNBsZCrODI2mw/RyROlnheY5TJivehuAkEDVHDMTeqQ
        cErhpULnwCpsXwMAgC6INQ==
        """)
    /// "first frame, from the zstd command line tool\n" from the zstd 1.5.4 command line tool (content size and
    /// checksum).
    static let cliFrame = bytes("""
        KLUv/QRYaQEAZmlyc3QgZnJhbWUsIGZyb20gdGhlIHpzdGQgY29tbWFuZCBsaW5lIHRvb2wK85qIQg==
        """)

    static func bytes(_ base64: String) -> [UInt8] {
        [UInt8](Data(base64Encoded: base64, options: .ignoreUnknownCharacters) ?? Data())
    }

    /// The generator of the fixtures' inputs: a 64-bit linear congruential one (Knuth's MMIX
    /// constants), of which each draw is the top 31 bits.
    struct Draws {
        private var state: UInt64

        init(seed: UInt64) {
            state = seed
        }

        mutating func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
    }

    static let vocabulary = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike",
                        "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
                        "yankee", "zulu"]

    /// `count` words drawn from `vocabulary`, each followed by a space or, one time in eight, a line break.
    static func words(_ count: Int, seed: UInt64) -> [UInt8] {
        var draws = Draws(seed: seed)
        var text = ""
        for _ in 0..<count {
            let draw = draws.next()
            text += vocabulary[draw % vocabulary.count] + ((draw >> 8) % 8 == 0 ? "\n" : " ")
        }
        return Array(text.utf8)
    }

    /// `count` paragraphs, each one of eight of 50 words and a line with a number.
    static func paragraphs(_ count: Int, seed: UInt64) -> [UInt8] {
        let paragraphs = (0..<8).map { words(50, seed: 100 + UInt64($0)) }
        var draws = Draws(seed: seed)
        var bytes: [UInt8] = []
        for _ in 0..<count {
            bytes += paragraphs[draws.next() % 8]
            bytes += Array("\(draws.next() % 100_000)\n".utf8)
        }
        return bytes
    }

    /// `count` bytes that do not compress.
    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var draws = Draws(seed: seed)
        return (0..<count).map { _ in UInt8((draws.next() >> 8) & 0xFF) }
    }

    /// `count` bytes of 0 to 15, the low ones more often.
    static func nibbles(_ count: Int, seed: UInt64) -> [UInt8] {
        var draws = Draws(seed: seed)
        return (0..<count).map { _ in UInt8(min(draws.next() % 16, draws.next() % 16)) }
    }

    /// `count` lowercase letters, those early in the alphabet more often.
    static func letters(_ count: Int, seed: UInt64) -> [UInt8] {
        var draws = Draws(seed: seed)
        return (0..<count).map { _ in UInt8(97 + min(draws.next() % 26, draws.next() % 26)) }
    }
}
