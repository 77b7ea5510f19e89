/// A reference profile of model inputs and outputs, written by `driftwood baseline` and read by
/// the `drift` filter. The file is JSON, `"version": 1` (the README documents it):
///
///     {"version": 1, "created_by": "driftwood 0.1.0", "lines": 1500, "bins": 10,
///      "features": {
///        "features.amount": {"type": "numeric", "count": 1497, "missing": 3, "invalid": 0,
///          "mean": 101.2, "std": 140.9, "min": 1.53, "max": 1772.43,
///          "edges": [12.1, …], "probabilities": [0.1, …]},
///        "features.country": {"type": "categorical", "count": 1500, "missing": 0, "distinct": 12,
///          "probabilities": {"DE": 0.09, …, "__other__": 0}}}}
///
/// Numeric bins are (-inf, edges[0]], (edges[0], edges[1]], …, (edges[last], +inf); there is one
/// probability per bin. Categorical probabilities list the most frequent values (at most 20)
/// and `__other__`, the share of every other value.
public struct Baseline: Sendable {
    /// The file format version this driftwood reads and writes.
    public static let formatVersion = 1
    /// The category that stands for every value not listed.
    public static let otherKey = "__other__"

    /// Features in file order.
    public var features: [FeatureBaseline]
    /// Lines the profile was made from (informational).
    public var lines: Int
    /// Bins asked for (numeric features may have fewer after merging tied edges).
    public var bins: Int
    /// Optional weights per feature (e.g. mean |SHAP| from training), in file order:
    /// `driftwood baseline --importance FILE`.
    public var importance: [(name: String, weight: Double)]?
    /// A hash of the file's bytes, set by whoever read it (0 when built in memory).
    public var contentDigest: UInt64 = 0

    public init(features: [FeatureBaseline], lines: Int, bins: Int, importance: [(name: String, weight: Double)]? = nil) {
        self.features = features
        self.lines = lines
        self.bins = bins
        self.importance = importance
    }

    /// The feature named `name`.
    public func feature(_ name: String) -> FeatureBaseline? { features.first { $0.name == name } }
}

/// The reference distribution of one feature.
public struct FeatureBaseline: Sendable {
    /// The field path, e.g. `features.amount`.
    public var name: String
    public var distribution: Distribution
    /// Values profiled (numbers for a numeric feature).
    public var count: Int
    /// Lines without the field (or with null).
    public var missing: Int

    public enum Distribution: Sendable {
        case numeric(Numeric)
        case categorical(Categorical)
    }

    public struct Numeric: Sendable {
        /// Inner bin edges, strictly increasing.
        public var edges: [Double]
        /// One per bin: `edges.count + 1`.
        public var probabilities: [Double]
        /// Values that were not numbers (strings, booleans): not binned.
        public var invalid: Int
        public var mean: Double
        /// Population standard deviation (numpy's default, ddof 0).
        public var std: Double
        public var min: Double
        public var max: Double

        public init(
            edges: [Double], probabilities: [Double], invalid: Int = 0, mean: Double = 0, std: Double = 0,
            min: Double = 0, max: Double = 0
        ) {
            self.edges = edges
            self.probabilities = probabilities
            self.invalid = invalid
            self.mean = mean
            self.std = std
            self.min = min
            self.max = max
        }
    }

    public struct Categorical: Sendable {
        /// The listed values, most frequent first (strings as they are; numbers and booleans
        /// as their JSON text).
        public var values: [String]
        /// One per listed value.
        public var probabilities: [Double]
        /// The share of every other value (`__other__`).
        public var other: Double
        /// Distinct values seen (informational; 0 when unknown).
        public var distinct: Int

        public init(values: [String], probabilities: [Double], other: Double, distinct: Int = 0) {
            self.values = values
            self.probabilities = probabilities
            self.other = other
            self.distinct = distinct
        }
    }

    public init(name: String, distribution: Distribution, count: Int = 0, missing: Int = 0) {
        self.name = name
        self.distribution = distribution
        self.count = count
        self.missing = missing
    }

    /// The reference proportion of each bin, in bin order (categorical: listed values, then
    /// `__other__`).
    public var expected: [Double] {
        switch distribution {
        case .numeric(let n): n.probabilities
        case .categorical(let c): c.probabilities + [c.other]
        }
    }

    public var isNumeric: Bool {
        if case .numeric = distribution { return true }
        return false
    }
}

/// Why a baseline file cannot be used; one sentence.
public struct BaselineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
