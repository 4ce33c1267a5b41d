//! The CSV reader on arbitrary bytes, under options chosen by the first byte (header mode,
//! targets, label columns, labels as names): errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nabla::data::{Header, LabelsAs, LoadOptions, Task};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, text)) = data.split_first() else {
        return;
    };
    let options = LoadOptions {
        header: [Header::Auto, Header::Present, Header::Absent][usize::from(choice % 3)],
        targets: [
            None,
            Some(Task::Classes),
            Some(Task::MultiLabel),
            Some(Task::Distribution),
            Some(Task::Regression),
        ][usize::from(choice / 3 % 5)],
        label_columns: match choice / 15 % 4 {
            0 => vec![],
            1 => vec!["0".into(), "1".into()],
            2 => vec!["label".into()],
            _ => vec!["a".into(), "a".into()],
        },
        labels_as: if choice & 0x80 != 0 {
            LabelsAs::Names
        } else {
            LabelsAs::Indices
        },
        loss: if choice & 0x40 != 0 {
            Some(nabla::LossKind::Mse)
        } else if choice & 0x20 != 0 {
            Some(nabla::LossKind::BinaryCrossEntropy)
        } else {
            None
        },
        missing: if choice & 0x10 != 0 {
            nabla::data::Missing::Drop
        } else {
            nabla::data::Missing::Refuse
        },
        index_column: if choice & 0x08 != 0 {
            nabla::data::IndexColumn::None
        } else {
            nabla::data::IndexColumn::Auto
        },
        ..LoadOptions::default()
    };
    let _ = nabla::data::read_csv(text, std::path::Path::new("fuzz.csv"), &options);
});
