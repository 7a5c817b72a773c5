/// TensorBoard's messages, encoded by hand with ``ProtobufWriter``.
///
/// Field numbers come from TensorBoard's `event.proto` (`Event`), `summary.proto`
/// (`Summary`, `SummaryMetadata`), `tensor.proto` and the hparams plugin's `api.proto` and
/// `plugin_data.proto`; `google/protobuf/struct.proto` gives `Value`. Fields are written in
/// field-number order, as protobuf's own serializers do, so the bytes match theirs.
enum TensorBoardEvents {
    /// `Event.file_version` of the first record: version 2 makes readers detect restarts from
    /// session logs instead of purging data whenever a step goes backwards, which noko's
    /// tables (each with its own steps, in one file) do all the time.
    static let fileVersion = "brain.Event:2"

    enum Event {
        static let wallTime = 1
        static let step = 2
        static let fileVersion = 3
        static let summary = 5
    }

    enum Summary {
        static let value = 1
    }

    enum SummaryValue {
        static let tag = 1
        static let simpleValue = 2
        static let tensor = 8
        static let metadata = 9
    }

    enum SummaryMetadata {
        static let pluginData = 1
    }

    enum PluginData {
        static let pluginName = 1
        static let content = 2
    }

    enum HParamsPluginData {
        static let experiment = 2
        static let sessionStartInfo = 3
        static let sessionEndInfo = 4
    }

    enum Experiment {
        static let timeCreatedSecs = 3
        static let hparamInfos = 4
        static let metricInfos = 5
    }

    enum HParamInfo {
        static let name = 1
        static let type = 4
    }

    enum MetricInfo {
        static let name = 1
    }

    enum MetricName {
        static let tag = 2
    }

    enum SessionStartInfo {
        static let hparams = 1
        static let startTimeSecs = 5
    }

    enum SessionEndInfo {
        static let status = 1
        static let endTimeSecs = 2
    }

    enum MapEntry {
        static let key = 1
        static let value = 2
    }

    enum ProtobufValue {
        static let numberValue = 2
        static let stringValue = 3
        static let boolValue = 4
    }

    /// `tensorboard.hparams.DataType`.
    enum DataType: Int32 {
        case string = 1
        case bool = 2
        case float64 = 3
    }

    /// The hparams plugin's name and summary tags (`tensorboard/plugins/hparams/metadata.py`).
    static let hparamsPluginName = "hparams"
    static let experimentTag = "_hparams_/experiment"
    static let sessionStartInfoTag = "_hparams_/session_start_info"
    static let sessionEndInfoTag = "_hparams_/session_end_info"

    /// The hparams plugin stores its data in summary metadata; the value itself is this empty
    /// float tensor (`dtype: DT_FLOAT, tensor_shape { dim { size: 0 } }`), as the plugin writes it.
    static let nullTensor: [UInt8] = [0x08, 0x01, 0x12, 0x02, 0x12, 0x00]

    /// The event every event file starts with.
    static func writeFileVersionEvent(wallTime: Double, to writer: inout ProtobufWriter) {
        writeEventHeader(wallTime: wallTime, step: 0, to: &writer)
        writer.writeString(field: Event.fileVersion, fileVersion)
    }

    /// `wall_time` and `step`, omitted when zero as proto3 does.
    static func writeEventHeader(wallTime: Double, step: Int64, to writer: inout ProtobufWriter) {
        if wallTime.bitPattern != 0 { writer.writeDouble(field: Event.wallTime, wallTime) }
        if step != 0 { writer.writeInt64(field: Event.step, step) }
    }

    /// An event holding one hparams plugin summary under `tag`.
    static func writeHParamsEvent(
        tag: String, pluginContent: [UInt8], wallTime: Double, to writer: inout ProtobufWriter
    ) {
        writeEventHeader(wallTime: wallTime, step: 0, to: &writer)
        writer.writeMessage(field: Event.summary) { summary in
            summary.writeMessage(field: Summary.value) { value in
                value.writeString(field: SummaryValue.tag, tag)
                value.writeBytes(field: SummaryValue.tensor, nullTensor)
                value.writeMessage(field: SummaryValue.metadata) { metadata in
                    metadata.writeMessage(field: SummaryMetadata.pluginData) { plugin in
                        plugin.writeString(field: PluginData.pluginName, hparamsPluginName)
                        plugin.writeBytes(field: PluginData.content, pluginContent)
                    }
                }
            }
        }
    }

    /// `HParamsPluginData { experiment }`: the hyperparameters' names and types, and the
    /// metrics the dashboard shows next to them. Null values have no hparams type and are left out.
    static func experimentContent(
        hyperparameters: [(key: String, value: Scalar)], metricTags: [String], timeCreated: Double
    ) -> [UInt8] {
        var content = ProtobufWriter()
        content.writeMessage(field: HParamsPluginData.experiment) { experiment in
            if timeCreated.bitPattern != 0 { experiment.writeDouble(field: Experiment.timeCreatedSecs, timeCreated) }
            for (key, value) in hyperparameters {
                guard let type = dataType(of: value) else { continue }
                experiment.writeMessage(field: Experiment.hparamInfos) { info in
                    info.writeString(field: HParamInfo.name, key)
                    info.writeInt32(field: HParamInfo.type, type.rawValue)
                }
            }
            for tag in metricTags {
                experiment.writeMessage(field: Experiment.metricInfos) { info in
                    info.writeMessage(field: MetricInfo.name) { name in
                        name.writeString(field: MetricName.tag, tag)
                    }
                }
            }
        }
        return content.bytes
    }

    /// `HParamsPluginData { session_start_info }`: this run's hyperparameter values.
    static func sessionStartContent(hyperparameters: [(key: String, value: Scalar)], startTime: Double) -> [UInt8] {
        var content = ProtobufWriter()
        content.writeMessage(field: HParamsPluginData.sessionStartInfo) { start in
            for (key, value) in hyperparameters where dataType(of: value) != nil {
                start.writeMessage(field: SessionStartInfo.hparams) { entry in
                    entry.writeString(field: MapEntry.key, key)
                    entry.writeMessage(field: MapEntry.value) { writeProtobufValue(value, to: &$0) }
                }
            }
            if startTime.bitPattern != 0 { start.writeDouble(field: SessionStartInfo.startTimeSecs, startTime) }
        }
        return content.bytes
    }

    /// `HParamsPluginData { session_end_info }`: how and when the run ended.
    static func sessionEndContent(status: TensorBoardSessionStatus, endTime: Double) -> [UInt8] {
        var content = ProtobufWriter()
        content.writeMessage(field: HParamsPluginData.sessionEndInfo) { end in
            if status.rawValue != 0 { end.writeInt32(field: SessionEndInfo.status, status.rawValue) }
            if endTime.bitPattern != 0 { end.writeDouble(field: SessionEndInfo.endTimeSecs, endTime) }
        }
        return content.bytes
    }

    /// The hparams type of a config value; nil for null, which TensorBoard cannot show.
    static func dataType(of value: Scalar) -> DataType? {
        switch value {
        case .null: return nil
        case .bool: return .bool
        case .int, .double: return .float64
        case .string: return .string
        }
    }

    /// A `google.protobuf.Value` (the fields of a oneof, so always written, zero included).
    private static func writeProtobufValue(_ value: Scalar, to writer: inout ProtobufWriter) {
        switch value {
        case .null: break
        case .bool(let flag): writer.writeBool(field: ProtobufValue.boolValue, flag)
        case .int(let number): writer.writeDouble(field: ProtobufValue.numberValue, Double(number))
        case .double(let number): writer.writeDouble(field: ProtobufValue.numberValue, number)
        case .string(let text): writer.writeString(field: ProtobufValue.stringValue, text)
        }
    }
}

/// How a run ended, as TensorBoard's HParams dashboard shows it (`tensorboard.hparams.Status`).
package enum TensorBoardSessionStatus: Int32, Sendable {
    /// Not known.
    case unknown = 0
    /// The run finished normally.
    case success = 1
    /// The run failed.
    case failure = 2
    /// The run is still going.
    case running = 3
}
