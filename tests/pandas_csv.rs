//! CSV files as pandas' `to_csv` writes them (an unnamed index column first, float columns as
//! `151.0`, `;` or tab under other locales), trained, evaluated and predicted on: each guess
//! nabla makes is printed, and each can be overridden (issue 30).

mod common;

use std::path::Path;

use common::{ok, run, stderr};

/// Rows `0..n` of three classes sorted by class, as `df.to_csv("iris.csv")` writes them: the
/// index first under an empty name, so the index alone predicts the class.
fn sorted_classes(n: usize, sep: &str) -> String {
    let mut text = format!("{sep}width{sep}length{sep}species\n");
    for i in 0..n {
        let class = i * 3 / n;
        let noise = ((i * 7919) % 101) as f64 / 101.0;
        text += &format!(
            "{i}{sep}{:.3}{sep}{:.3}{sep}{}\n",
            class as f64 + noise,
            2.0 * class as f64 - noise,
            ["setosa", "versicolor", "virginica"][class]
        );
    }
    text
}

fn train(dir: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["train", "--epochs", "3", "--hidden", "8"];
    all.extend_from_slice(args);
    let output = run(&all, dir);
    let out = ok(&output);
    (out, stderr(&output))
}

/// `iris.csv` (sorted classes, pandas' index) in `dir`, and `m.safetensors` trained on it.
fn iris_model(dir: &Path) {
    std::fs::write(dir.join("iris.csv"), sorted_classes(90, ",")).unwrap();
    train(
        dir,
        &[
            "--data",
            "iris.csv",
            "--label-column",
            "species",
            "--save",
            "m.safetensors",
        ],
    );
}

#[test]
fn the_pandas_index_column_is_not_a_feature_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("iris.csv"), sorted_classes(90, ",")).unwrap();
    let (out, err) = train(d, &["--data", "iris.csv", "--label-column", "species"]);
    assert!(out.contains("2 features, 3 classes"), "{out}");
    assert!(
        err.contains("the first column has no name: it is read as the row index pandas writes"),
        "{err}"
    );
    assert!(err.contains("features: width, length"), "{err}");
    // Overridden: --no-index reads it as a feature.
    let (out, _) = train(
        d,
        &[
            "--data",
            "iris.csv",
            "--label-column",
            "species",
            "--no-index",
        ],
    );
    assert!(out.contains("3 features"), "{out}");
    // A named index column (an id), dropped when told.
    let ids = sorted_classes(90, ",").replacen(",width", "id,width", 1);
    std::fs::write(d.join("ids.csv"), ids).unwrap();
    let (out, _) = train(
        d,
        &[
            "--data",
            "ids.csv",
            "--label-column",
            "species",
            "--index-column",
            "id",
            "--save",
            "m.safetensors",
        ],
    );
    assert!(out.contains("2 features"), "{out}");
}

#[test]
fn predict_and_evaluate_read_a_pandas_file_by_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    iris_model(d);
    // New rows as pandas writes them: an index, the features, no label column.
    std::fs::write(d.join("new.csv"), ",width,length\n0,0.2,-0.1\n1,2.5,3.5\n").unwrap();
    let predicted = ok(&run(&["predict", "m.safetensors", "--data", "new.csv"], d));
    assert_eq!(predicted.lines().count(), 3, "{predicted}");
    let evaluated = run(&["evaluate", "m.safetensors", "--data", "iris.csv"], d);
    assert!(
        ok(&evaluated).contains("accuracy"),
        "{}",
        stderr(&evaluated)
    );
}

#[test]
fn a_guessed_label_column_is_named_and_doubted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The penguins mistake: no column is named label, and the last one is a year.
    let mut table = String::from(",bill,species,year\n");
    for i in 0..60 {
        table += &format!(
            "{i},{}.5,{},{}\n",
            30 + i % 17,
            ["a", "b"][i % 2],
            2007 + i % 3
        );
    }
    std::fs::write(d.join("penguins.csv"), table).unwrap();
    let refused = run(&["train", "--data", "penguins.csv"], d);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains(
            "the label column was guessed as 'year': if 'species' is the label, say \
             --label-column species"
        ),
        "{}",
        stderr(&refused)
    );
    let (_, err) = train(d, &["--data", "penguins.csv", "--label-column", "species"]);
    assert!(
        err.contains("label column 'species' (as given); 2 features: bill, year"),
        "{err}"
    );
    // Guessed by position, it says so and how to choose.
    let numbers: String = (0..60)
        .map(|i| format!("{i},{},{}\n", i % 5, i % 2))
        .collect();
    std::fs::write(d.join("last.csv"), format!("a,b,c\n{numbers}")).unwrap();
    let (_, err) = train(d, &["--data", "last.csv"]);
    assert!(
        err.contains("label column 'c' (the last column, as no column is named label"),
        "{err}"
    );
}

#[test]
fn a_real_valued_target_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // sklearn's diabetes target as pandas writes a float column: whole values, "151.0".
    let mut table = String::from(",age,bmi,target\n");
    for i in 0..200 {
        let (age, bmi) = ((i * 37 % 100) as f64 / 100.0, (i * 61 % 100) as f64 / 100.0);
        table += &format!(
            "{i},{age},{bmi},{:.1}\n",
            (100.0 + 150.0 * age + 60.0 * bmi).round()
        );
    }
    std::fs::write(d.join("diabetes.csv"), table).unwrap();
    let (out, err) = train(d, &["--data", "diabetes.csv"]);
    assert!(out.contains("1 target (regression)"), "{out}");
    assert!(out.contains("test R²"), "{out}");
    assert!(
        err.contains("the label column 'target' holds decimal numbers with"),
        "{err}"
    );
    // Overridden: read as class names.
    let (out, _) = train(d, &["--data", "diabetes.csv", "--targets", "classes"]);
    assert!(out.contains("classes"), "{out}");
}

#[test]
fn semicolons_and_tabs_are_told_from_the_header_or_given() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, sep, said) in [("semi.csv", ";", "semicolons"), ("tabs.tsv", "\t", "tabs")] {
        std::fs::write(d.join(name), sorted_classes(90, sep)).unwrap();
        let (out, err) = train(d, &["--data", name, "--label-column", "species"]);
        assert!(out.contains("2 features, 3 classes"), "{out}");
        assert!(
            err.contains(&format!(
                "columns separated by {said} (told from the first line"
            )),
            "{err}"
        );
    }
    let (out, err) = train(
        d,
        &[
            "--data",
            "semi.csv",
            "--label-column",
            "species",
            "--delimiter",
            ";",
        ],
    );
    assert!(out.contains("2 features"), "{out}");
    assert!(
        !err.contains("separated by"),
        "a given separator is not a guess: {err}"
    );
}

#[test]
fn messages_count_rightly_and_name_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..60).map(|i| format!("{},{}\n", i % 9, i % 2)).collect();
    std::fs::write(d.join("one.csv"), format!("x,label\n{rows}")).unwrap();
    let (out, _) = train(d, &["--data", "one.csv"]);
    assert!(out.contains(" 1 feature, 2 classes"), "{out}");
    // A wide header: the closest names, not the first twelve.
    let names: Vec<String> = (0..100).map(|i| format!("pixel{i}")).collect();
    let row = vec!["0"; 100].join(",");
    std::fs::write(d.join("wide.csv"), format!("{}\n{row}\n", names.join(","))).unwrap();
    let refused = run(
        &["train", "--data", "wide.csv", "--label-column", "pixel_77"],
        d,
    );
    let err = stderr(&refused);
    assert!(
        err.contains("the closest of the header's 100 columns: pixel77"),
        "{err}"
    );
}

#[test]
fn a_yes_no_target_outside_0_1_is_named_as_written() {
    // Several 0/1 columns under binary cross-entropy, one cell 1.5: it was refused as "target
    // row 0, output 0: -1 is outside [0, 1]" (a standardised value, the wrong row).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..40)
        .map(|i| {
            let b = if i == 1 {
                "1.5".to_string()
            } else {
                ((i / 2) % 2).to_string()
            };
            format!("{},{},{b}\n", i % 5, i % 2)
        })
        .collect();
    std::fs::write(d.join("yes_no.csv"), format!("x,a,b\n{rows}")).unwrap();
    let refused = run(
        &[
            "train",
            "--data",
            "yes_no.csv",
            "--label-column",
            "a,b",
            "--loss",
            "binary-cross-entropy",
        ],
        d,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("yes_no.csv, line 3: target 'b' is 1.5, outside [0, 1]"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn evaluate_finds_and_recognises_the_training_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["data", "run", "elsewhere"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("data/train.csv"), sorted_classes(90, ",")).unwrap();
    let run_dir = d.join("run");
    train(
        &run_dir,
        &[
            "--data",
            "../data/train.csv",
            "--label-column",
            "species",
            "--save",
            "m.safetensors",
        ],
    );
    let held_out = "rows: the 18 held-out test rows of";
    // The training file spelled differently: its held-out rows, not all 90.
    let spelled = ok(&run(
        &["evaluate", "m.safetensors", "--data", "./../data/train.csv"],
        &run_dir,
    ));
    assert!(spelled.contains(held_out), "{spelled}");
    // A copy of it: recognised by its rows, with a note.
    std::fs::copy(d.join("data/train.csv"), d.join("copy.csv")).unwrap();
    let copied = run(
        &["evaluate", "m.safetensors", "--data", "../copy.csv"],
        &run_dir,
    );
    assert!(ok(&copied).contains(held_out), "{}", stderr(&copied));
    assert!(
        stderr(&copied).contains("holds the rows the model was trained on (as ../data/train.csv)"),
        "{}",
        stderr(&copied)
    );
    // From another folder: the recorded absolute path finds it.
    let elsewhere = ok(&run(
        &["evaluate", "../run/m.safetensors"],
        &d.join("elsewhere"),
    ));
    assert!(elsewhere.contains(held_out), "{elsewhere}");
    // Gone: the error names both paths and the fix.
    std::fs::rename(d.join("data"), d.join("moved")).unwrap();
    let gone = run(&["evaluate", "../run/m.safetensors"], &d.join("elsewhere"));
    assert_eq!(gone.status.code(), Some(2));
    let err = stderr(&gone);
    assert!(
        err.contains("was trained on ../data/train.csv (where it was trained:")
            && err.contains("give the rows with --data"),
        "{err}"
    );
}

#[test]
fn missing_cells_are_refused_with_the_options_or_dropped_and_booleans_read() {
    // pandas writes NaN as an empty cell; tables exported from R write NA; get_dummies writes
    // True/False.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut table = String::from(",bill,male,species\n");
    for i in 0..60 {
        let bill = match i {
            3 => String::new(),
            7 => "NA".into(),
            _ => format!("{}.5", 30 + i % 17),
        };
        let male = ["True", "False"][i % 2];
        table += &format!("{i},{bill},{male},{}\n", ["a", "b"][i % 2]);
    }
    std::fs::write(d.join("na.csv"), table).unwrap();
    let refused = run(
        &["train", "--data", "na.csv", "--label-column", "species"],
        d,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains(
            "na.csv, line 5: column 'bill': a missing value (an empty cell); nabla does not \
             guess a value: --missing drop"
        ),
        "{}",
        stderr(&refused)
    );
    let (out, err) = train(
        d,
        &[
            "--data",
            "na.csv",
            "--label-column",
            "species",
            "--missing",
            "drop",
        ],
    );
    assert!(out.contains("2 features, 2 classes"), "{out}");
    assert!(
        err.contains("left out 2 rows with a missing cell (--missing drop); 58 remain"),
        "{err}"
    );
    assert!(err.contains("True/False read as 1/0 in male"), "{err}");
}

#[test]
fn rows_outside_the_training_range_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    iris_model(d);
    // width spans about [0, 3], length about [-1, 4] in training.
    std::fs::write(
        d.join("far.csv"),
        ",width,length\n0,0.5,0.5\n1,30,0.5\n2,-7,40\n",
    )
    .unwrap();
    let predicted = run(&["predict", "m.safetensors", "--data", "far.csv"], d);
    ok(&predicted);
    assert!(
        stderr(&predicted).contains(
            "2 of 3 rows have features outside the training range (width in 2 rows, length in \
             1 row): there the model extrapolates"
        ),
        "{}",
        stderr(&predicted)
    );
}

#[test]
fn a_guessed_label_with_a_class_per_few_rows_is_doubted() {
    // linnerud's last column is Pulse: read as the label, it made a class of almost every row.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: String = (0..40)
        .map(|i| format!("{},{},{}\n", 5 + i % 13, 150 + i * 3 % 60, 50 + i % 23))
        .collect();
    std::fs::write(
        d.join("linnerud.csv"),
        format!("Chins,Weight,Pulse\n{rows}"),
    )
    .unwrap();
    let output = run(&["train", "--data", "linnerud.csv", "--epochs", "1"], d);
    assert!(
        stderr(&output).contains(
            "the label column, guessed as the last one, takes 23 values in 40 rows: it looks like \
             a feature"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_features_are_filled_from_the_training_rows_and_by_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut table = String::from(",bill,flipper,species\n");
    for i in 0..120 {
        let s = i % 2;
        let bill = if i % 17 == 3 {
            String::new()
        } else {
            format!("{:.1}", 38.0 + 6.0 * s as f64 + (i % 7) as f64 * 0.4)
        };
        let flipper = if i % 23 == 5 {
            "NA".to_string()
        } else {
            format!("{}", 190 + 15 * s + i % 5)
        };
        table += &format!("{i},{bill},{flipper},{}\n", ["Adelie", "Gentoo"][s]);
    }
    std::fs::write(d.join("penguins.csv"), table).unwrap();
    for (how, said) in [("mean", "means"), ("median", "medians")] {
        let (out, err) = train(
            d,
            &[
                "--data",
                "penguins.csv",
                "--label-column",
                "species",
                "--missing",
                how,
                "--save",
                "m.safetensors",
            ],
        );
        assert!(out.contains("2 features, 2 classes"), "{out}");
        assert!(
            err.contains(&format!(
                "filled 12 missing cells with the training rows' column {said}"
            )),
            "{err}"
        );
    }
    // New rows with missing cells: the model fills them as it was trained to.
    std::fs::write(d.join("new.csv"), ",bill,flipper\n0,,195\n1,45,NA\n").unwrap();
    let predicted = ok(&run(&["predict", "m.safetensors", "--data", "new.csv"], d));
    assert_eq!(predicted.lines().count(), 3, "{predicted}");
    assert!(!predicted.contains("NaN"), "{predicted}");
}
