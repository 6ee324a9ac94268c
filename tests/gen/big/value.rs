// One value of tests/gen/big/store.x, built in Rust: the main program of
// tests/interop/gen_system_x.sh appends this file and calls big_value(),
// which checks its encoding (an item, then a two-node list) against
// tests/gen/big/value.hex, as value.py and value.c do.

fn big_value() {
    use xipc::idl::wellknown::authsys_parms;
    let it = store::item {
        name: "disk".into(),
        stamp: common::stamp {
            seconds: common::U64_MAX,
            offset: common::I64_MIN,
            nanos: 7,
        },
        status: common::GONE,
        level: common::LOW,
        handle: vec![1, 2, 3],
        owner: Some(Box::new(common::owner {
            token: b"tok".to_vec(),
            cred: authsys_parms {
                stamp: 1,
                machinename: "m".into(),
                uid: 2,
                gid: 3,
                gids: vec![4, 5],
            },
            key: *b"12345678",
        })),
        change: store::change::V2(common::stamp {
            seconds: 1,
            offset: -1,
            nanos: 2,
        }),
        state: store::state::Default(common::GONE, "why".into()),
        flagged: store::flagged::TRUE(-5),
        extra: store::extra::Default(9, b"ab".to_vec()),
        vector: [1, -2, 3],
        counters: vec![common::U64_MAX, 0],
        list: [0.5, -1.0],
        q: std::array::from_fn(|i| i as u8),
        bytes: true,
        str: -3,
        r#type: 255,
        fixed: *b"abcde",
        note: "n".into(),
        when: common::stamp {
            seconds: 1,
            offset: 2,
            nanos: 3,
        },
    };
    let chain = store::entry {
        it: it.clone(),
        next: Some(Box::new(store::entry {
            it: store::item::default(),
            next: None,
        })),
    };
    let mut bytes = it.to_bytes().expect("the item encodes");
    bytes.extend(chain.to_bytes().expect("the list encodes"));
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let path = std::env::var("BIG_HEX").expect("BIG_HEX names tests/gen/big/value.hex");
    let want: String = std::fs::read_to_string(path)
        .expect("tests/gen/big/value.hex")
        .split_whitespace()
        .collect();
    assert_eq!(hex, want, "Rust encodes the big value differently");
    assert_eq!(store::item::from_bytes(&it.to_bytes().unwrap()).unwrap(), it);
    // 64-bit constants, and procedure numbers written as names.
    assert_eq!((common::I64_MAX, common::U32_MAX, common::OCTAL), (i64::MAX, 4294967295, 15));
    assert_eq!((store::BIG, store::PUT, store::PUT2), (u64::MAX, 2, 2));
    // Defaults: the all-zero encoding's value, or the first case.
    assert_eq!(common::status::default(), common::READY);
    assert_eq!(common::level::default(), common::NONE);
    assert_eq!(store::change::default(), store::change::V1(String::new()));
    assert_eq!(store::state::default(), store::state::BUSY(0));
    assert_eq!(store::flagged::default(), store::flagged::FALSE);
    assert_eq!(store::extra::default(), store::extra::Default(0, Vec::new()));
    println!("tests/gen/big: Rust encodes the value to the expected bytes");
}
