//! Precomputed feature files in every supported format, written by the tests themselves: the
//! matrix and ids read back, rows matched to songs, and each problem reported with what to do.

mod util;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use hdf5::types::{FixedAscii, VarLenUnicode};
use mer::features::precomputed::{FeatureTable, PrecomputedError, RowError, RowIds};
use mer::modality::Modality;
use mer::spec::PrecomputedSection;
use util::TestDir;

/// A `.npy` file's bytes (format 1.0): `descr` such as `<f4`, values already encoded.
pub fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape = match shape {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let order = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    // Magic, version and length take 10 bytes; the header ends in '\n' at a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// numpy's `<U{width}`: UTF-32LE code points, NUL-padded.
fn unicode_bytes(ids: &[&str], width: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for id in ids {
        let mut chars: Vec<u32> = id.chars().map(u32::from).collect();
        chars.resize(width, 0);
        bytes.extend(chars.iter().flat_map(|c| c.to_le_bytes()));
    }
    bytes
}

/// numpy's `|S{width}`: bytes, NUL-padded.
fn byte_string_bytes(ids: &[&str], width: usize) -> Vec<u8> {
    ids.iter()
        .flat_map(|id| {
            let mut b = id.as_bytes().to_vec();
            b.resize(width, 0);
            b
        })
        .collect()
}

/// A `.npz` archive of named `.npy` entries, stored or deflated like `savez(_compressed)`.
fn write_npz(path: &Path, arrays: &[(&str, Vec<u8>)], deflated: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let method = if deflated {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in arrays {
        zip.start_file(format!("{name}.npy"), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

fn section(path: PathBuf) -> PrecomputedSection {
    PrecomputedSection {
        path,
        ids: None,
        id_key: None,
        data_key: None,
    }
}

fn read(section: &PrecomputedSection) -> FeatureTable {
    FeatureTable::read(section, Modality::Audio).expect("the file reads")
}

fn read_err(section: &PrecomputedSection) -> PrecomputedError {
    FeatureTable::read(section, Modality::Audio).expect_err("the file is refused")
}

/// Songs a, b, c with features [1, 2], [3, 4], [5, 6].
const ROWS: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

fn assert_abc(table: &FeatureTable) {
    assert_eq!(table.width(), 2);
    assert_eq!(table.row("a").unwrap(), [1.0, 2.0]);
    assert_eq!(table.row("b").unwrap(), [3.0, 4.0]);
    assert_eq!(table.row("c").unwrap(), [5.0, 6.0]);
}

#[test]
fn npy_with_an_ids_file_reads_f32_and_f64_in_c_and_fortran_order() {
    let dir = TestDir::new();
    dir.write("ids.txt", "a\nb\r\n c \n\n");
    let c32 = npy_bytes("<f4", false, &[3, 2], &f32_bytes(&ROWS));
    // The same matrix stored column by column.
    let fortran: Vec<f64> = vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0];
    let f64_fortran = npy_bytes("<f8", true, &[3, 2], &f64_bytes(&fortran));
    for (name, bytes) in [("c.npy", c32), ("f.npy", f64_fortran)] {
        let mut s = section(dir.write(name, bytes));
        s.ids = Some(dir.path("ids.txt"));
        let table = read(&s);
        assert_abc(&table);
        assert_eq!(table.names, ["audio_emb_0", "audio_emb_1"], "{name}");
    }
}

#[test]
fn npy_without_ids_or_with_a_wrong_count_is_refused_with_what_to_do() {
    let dir = TestDir::new();
    let s = section(dir.write("m.npy", npy_bytes("<f4", false, &[3, 2], &f32_bytes(&ROWS))));
    let message = read_err(&s).to_string();
    assert!(
        message.contains("m.npy") && message.contains("set `ids`"),
        "{message}"
    );

    let mut s = s;
    s.ids = Some(dir.write("ids.txt", "a\nb\n"));
    let message = read_err(&s).to_string();
    assert!(
        message.contains("3 rows") && message.contains("number 2"),
        "{message}"
    );
}

#[test]
fn npy_of_integers_or_three_dimensions_is_refused_naming_what_was_found() {
    let dir = TestDir::new();
    let ints: Vec<u8> = [1i32, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut s = section(dir.write("i.npy", npy_bytes("<i4", false, &[3], &ints)));
    s.ids = Some(dir.write("ids.txt", "a\nb\nc\n"));
    let message = read_err(&s).to_string();
    assert!(
        message.contains("float32 or float64") && message.contains("<i4"),
        "{message}"
    );
    let mut s = section(dir.write(
        "cube.npy",
        npy_bytes("<f4", false, &[3, 1, 2], &f32_bytes(&ROWS)),
    ));
    s.ids = Some(dir.path("ids.txt"));
    assert!(read_err(&s).to_string().contains("shape [3, 1, 2]"));
}

#[test]
fn npz_reads_unicode_byte_string_and_integer_ids() {
    let dir = TestDir::new();
    let data = npy_bytes("<f4", false, &[3, 2], &f32_bytes(&ROWS));
    let unicode = npy_bytes("<U3", false, &[3], &unicode_bytes(&["a", "b", "c"], 3));
    write_npz(
        &dir.path("u.npz"),
        &[("features", data.clone()), ("ids", unicode)],
        false,
    );
    assert_abc(&read(&section(dir.path("u.npz"))));

    let bytes = npy_bytes("|S2", false, &[3], &byte_string_bytes(&["a", "b", "c"], 2));
    write_npz(
        &dir.path("s.npz"),
        &[("emb", data.clone()), ("song", bytes)],
        true,
    );
    let mut s = section(dir.path("s.npz"));
    s.data_key = Some("emb".into());
    s.id_key = Some("song".into());
    assert_abc(&read(&s));

    let ints: Vec<u8> = [7i64, 8, 120]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    write_npz(
        &dir.path("i.npz"),
        &[
            ("features", data),
            ("ids", npy_bytes("<i8", false, &[3], &ints)),
        ],
        false,
    );
    let table = read(&section(dir.path("i.npz")));
    // Integer ids match the zero-padded ids of MIREX-like datasets by value.
    assert_eq!(table.row("007").unwrap(), [1.0, 2.0]);
    assert_eq!(table.row("120").unwrap(), [5.0, 6.0]);
}

#[test]
fn a_wrong_data_key_names_the_arrays_the_archive_has() {
    let dir = TestDir::new();
    let data = npy_bytes("<f4", false, &[3, 2], &f32_bytes(&ROWS));
    let ids = npy_bytes("<U1", false, &[3], &unicode_bytes(&["a", "b", "c"], 1));
    write_npz(
        &dir.path("m.npz"),
        &[("embeddings", data), ("ids", ids)],
        false,
    );
    let mut s = section(dir.path("m.npz"));
    s.data_key = Some("features".into());
    let err = read_err(&s);
    assert!(
        matches!(err, PrecomputedError::MissingKey { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("no array `features`")
            && message.contains("`embeddings`, `ids`")
            && message.contains("set `data_key`"),
        "{message}"
    );
}

#[test]
fn csv_names_features_by_header_and_reads_the_id_column() {
    let dir = TestDir::new();
    let s = section(dir.write("m.csv", "tempo,id,energy\n1,a,2\n3,b,4\n5,c,6\n"));
    let table = read(&s);
    assert_eq!(table.names, ["tempo", "energy"]);
    assert_abc(&table);

    let mut other = section(dir.write("k.csv", "song,x,y\na,1,2\nb,3,4\nc,5,6\n"));
    assert!(read_err(&other).to_string().contains("no column `id`"));
    other.id_key = Some("song".into());
    assert_abc(&read(&other));
}

#[test]
fn a_csv_cell_that_is_not_a_number_names_its_line_and_column() {
    let dir = TestDir::new();
    let s = section(dir.write("m.csv", "id,x\na,1\nb,oops\n"));
    let message = read_err(&s).to_string();
    assert!(
        message.contains("line 3") && message.contains("`x`") && message.contains("oops"),
        "{message}"
    );
}

#[test]
fn h5_reads_variable_and_fixed_length_string_ids() {
    let dir = TestDir::new();
    let path = dir.path("m.h5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let data = file
            .new_dataset::<f64>()
            .shape([3, 2])
            .create("features")
            .unwrap();
        data.write_raw(&ROWS.map(f64::from)).unwrap();
        let ids: Vec<VarLenUnicode> = ["a", "b", "c"]
            .iter()
            .map(|s| VarLenUnicode::from_str(s).unwrap())
            .collect();
        let ds = file
            .new_dataset::<VarLenUnicode>()
            .shape([3])
            .create("ids")
            .unwrap();
        ds.write_raw(&ids).unwrap();
        let fixed: Vec<FixedAscii<4>> = ["a", "b", "c"]
            .iter()
            .map(|s| FixedAscii::from_ascii(s.as_bytes()).unwrap())
            .collect();
        let ds = file
            .new_dataset::<FixedAscii<4>>()
            .shape([3])
            .create("names")
            .unwrap();
        ds.write_raw(&fixed).unwrap();
    }
    assert_abc(&read(&section(path.clone())));
    let mut s = section(path);
    s.id_key = Some("names".into());
    assert_abc(&read(&s));
    s.data_key = Some("emb".into());
    let message = read_err(&s).to_string();
    assert!(
        message.contains("no dataset `emb`") && message.contains("`features`, `ids`, `names`"),
        "{message}"
    );
}

#[test]
fn duplicate_ids_are_an_error_naming_the_id_and_both_rows() {
    let dir = TestDir::new();
    let s = section(dir.write("m.csv", "id,x\na,1\nb,2\na,3\n"));
    let message = read_err(&s).to_string();
    assert!(
        message.contains("`a`") && message.contains("rows 0 and 2"),
        "{message}"
    );
    assert!(
        RowIds::read(&s).is_err(),
        "the up-front id read refuses it too"
    );
}

#[test]
fn missing_and_non_finite_rows_are_per_song_errors_and_unknown_ids_are_listed() {
    let dir = TestDir::new();
    let s = section(dir.write("m.csv", "id,x,y\na,1,2\nb,nan,4\nc,,6\nz,1,1\nd,inf,0\n"));
    let table = read(&s);
    assert_eq!(table.row("a").unwrap(), [1.0, 2.0]);
    for (id, row) in [("b", 1), ("c", 2), ("d", 4)] {
        let err = table.row(id).unwrap_err();
        assert_eq!(
            err,
            RowError::NotFinite {
                path: s.path.clone(),
                row
            }
        );
        assert!(err.to_string().contains("treated as missing"));
    }
    assert!(matches!(table.row("e"), Err(RowError::Missing { .. })));
    assert!(
        table
            .row("e")
            .unwrap_err()
            .to_string()
            .starts_with("no row in")
    );
    assert_eq!(table.unknown_ids(["a", "b", "c", "d", "e"]), ["z"]);
}

#[test]
fn an_unknown_extension_or_a_missing_file_says_what_is_expected() {
    let dir = TestDir::new();
    let message = read_err(&section(dir.write("m.parquet", "x"))).to_string();
    assert!(message.contains(".npy, .npz, .csv or .h5") && message.contains("parquet"));
    let message = read_err(&section(dir.path("absent.h5"))).to_string();
    assert!(
        message.contains("absent.h5") && message.contains("cannot read"),
        "{message}"
    );
}
